// DarkShip on Azure: a Flex Consumption function app running the DarkShip custom handler, its
// storage account, the mirror Event Hub with Capture, Log Analytics + Application Insights, the
// identities and their least-privilege roles, and the on-call alerts. No key, connection string or
// secret appears anywhere: every connection is identity-based. Deploy with `azd up` (azure.yaml) or
// `az deployment group create` (docs/deploy.md).

targetScope = 'resourceGroup'

@description('Environment name (dev, prod, …): part of every resource name.')
@minLength(2)
@maxLength(12)
param environmentName string

@description('Azure region (one where Flex Consumption is available).')
param location string = resourceGroup().location

@description('Memory per function app instance in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Most function app instances.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Always-ready instances for the HTTP functions (Predict, Outcomes).')
@minValue(0)
param alwaysReadyHttpInstances int = 1

@description('Mirror hub partitions.')
param mirrorPartitions int = 4

@description('Storage replication.')
param storageSku string = 'Standard_ZRS'

@description('E-mail addresses every alert pages.')
param alertEmails array = []

@description('Webhook every alert calls (empty for none).')
param alertWebhookUrl string = ''

@description('Where docs/runbook.md is published (each alert links its section).')
param runbookUrl string = 'https://github.com/darkship/darkship/blob/main/docs/runbook.md'

@description('Tags for every resource.')
param tags object = {}

var token = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var allTags = union(tags, { 'azd-env-name': environmentName, application: 'darkship' })

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    appIdentityName: 'id-darkship-${environmentName}'
    captureIdentityName: 'id-darkship-capture-${environmentName}'
    location: location
    tags: allTags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: take('stdarkship${token}', 24)
    location: location
    tags: allTags
    skuName: storageSku
    appPrincipalId: identity.outputs.appPrincipalId
    capturePrincipalId: identity.outputs.capturePrincipalId
  }
}

module eventHubs 'modules/eventhubs.bicep' = {
  name: 'eventhubs'
  params: {
    name: 'evhns-darkship-${environmentName}-${token}'
    location: location
    tags: allTags
    partitionCount: mirrorPartitions
    appPrincipalId: identity.outputs.appPrincipalId
    captureIdentityId: identity.outputs.captureIdentityId
    captureStorageAccountId: storage.outputs.id
    captureContainerName: storage.outputs.captureContainerName
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    workspaceName: 'log-darkship-${environmentName}'
    applicationInsightsName: 'appi-darkship-${environmentName}'
    location: location
    tags: allTags
    appPrincipalId: identity.outputs.appPrincipalId
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    name: 'func-darkship-${environmentName}-${token}'
    planName: 'plan-darkship-${environmentName}'
    location: location
    tags: allTags
    identityId: identity.outputs.appIdentityId
    identityClientId: identity.outputs.appClientId
    storageAccountName: storage.outputs.name
    blobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    eventHubsNamespace: eventHubs.outputs.fullyQualifiedNamespace
    mirrorHubName: eventHubs.outputs.hubName
    shadowConsumerGroup: eventHubs.outputs.consumerGroupName
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    alwaysReadyHttpInstances: alwaysReadyHttpInstances
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  params: {
    namePrefix: 'darkship-${environmentName}'
    location: location
    tags: allTags
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    alertEmails: alertEmails
    alertWebhookUrl: alertWebhookUrl
    runbookUrl: runbookUrl
  }
}

module workbook 'modules/workbook.bicep' = {
  name: 'workbook'
  params: {
    displayName: 'DarkShip (${environmentName})'
    location: location
    tags: allTags
    applicationInsightsId: monitoring.outputs.applicationInsightsId
  }
}

@description('The function app (azd deploys the package to it).')
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name

@description('Base URL of the app: POST {url}/api/predict/{model}.')
output SERVICE_DARKSHIP_URL string = functionApp.outputs.url

@description('The storage account (darkship --settings needs AzureWebJobsStorage__accountName).')
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
