using './main.bicep'

// Production: no cold start on the live path, zone-redundant storage, on-call paged.
param environmentName = 'prod'
param instanceMemoryMB = 2048
param maximumInstanceCount = 200
param alwaysReadyHttpInstances = 2
param mirrorPartitions = 8
param storageSku = 'Standard_ZRS'
param alertEmails = [
  'ml-platform-oncall@example.com'
]
param alertWebhookUrl = ''
