using './main.bicep'

// Development: small, cold starts allowed, alerts to the team's channel only.
param environmentName = 'dev'
param instanceMemoryMB = 2048
param maximumInstanceCount = 40
param alwaysReadyHttpInstances = 0
param mirrorPartitions = 2
param storageSku = 'Standard_LRS'
param alertEmails = []
param alertWebhookUrl = ''
