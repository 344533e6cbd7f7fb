// DarkShip on Azure: a Flex Consumption function app running the DarkShip custom handler, its
// storage account, the mirror Event Hub with Capture, Log Analytics + Application Insights, the
// identities and their least-privilege roles, and the on-call alerts. No key, connection string or
// secret appears anywhere: every connection is identity-based. Deploy with `azd up` (azure.yaml) or
// `az deployment group create` (docs/deploy.md).

targetScope = 'resourceGroup'

import { resourceTags } from 'modules/types.bicep'

@description('Environment name (dev, prod, …; azd\'s AZURE_ENV_NAME, up to 64 characters): part of every resource name, shortened where a resource type allows fewer characters.')
@minLength(2)
@maxLength(64)
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

@description('Always-ready instances for the HTTP functions (Predict, Outcomes); at most maximumInstanceCount.')
@minValue(0)
@maxValue(1000)
param alwaysReadyHttpInstances int = 1

@description('Mirror hub partitions (Event Hubs Standard: 1–32; fixed once the hub exists).')
@minValue(1)
@maxValue(32)
param mirrorPartitions int = 4

@description('Storage replication.')
@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_RAGRS'])
param storageSku string = 'Standard_ZRS'

@description('E-mail addresses every alert pages.')
param alertEmails string[] = []

@description('Webhook every alert calls (empty for none).')
param alertWebhookUrl string = ''

@description('Where docs/runbook.md is published (each alert links its section).')
param runbookUrl string = 'https://github.com/darkship/darkship/blob/main/docs/runbook.md'

@description('Tags for every resource.')
param tags resourceTags = {}

var token = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var allTags = union(tags, { 'azd-env-name': environmentName, application: 'darkship' })

// Nested deployments are named per environment: two environments in one resource group must not
// overwrite each other's deployment records (or run into each other mid-deployment).
var deploymentSuffix = take('${environmentName}-${token}', 50)

// Resource ids known before deployment (the names are): role assignments are named from them, so
// What-If predicts them instead of short-circuiting on a principal id only known at run time.
var appIdentityName = 'id-darkship-${environmentName}'
var captureIdentityName = 'id-darkship-capture-${environmentName}'
var appIdentityId = resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', appIdentityName)
var captureIdentityId = resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', captureIdentityName)
var applicationInsightsName = 'appi-darkship-${environmentName}'
var applicationInsightsId = resourceId('Microsoft.Insights/components', applicationInsightsName)

module identity 'modules/identity.bicep' = {
  name: 'identity-${deploymentSuffix}'
  params: {
    appIdentityName: appIdentityName
    captureIdentityName: captureIdentityName
    location: location
    tags: allTags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage-${deploymentSuffix}'
  params: {
    name: take('stdarkship${token}', 24)
    location: location
    tags: allTags
    skuName: storageSku
    appIdentityId: appIdentityId
    appPrincipalId: identity.outputs.appPrincipalId
    captureIdentityId: captureIdentityId
    capturePrincipalId: identity.outputs.capturePrincipalId
  }
}

module eventHubs 'modules/eventhubs.bicep' = {
  name: 'eventhubs-${deploymentSuffix}'
  params: {
    name: 'evhns-darkship-${take(environmentName, 21)}-${token}' // at most 50 characters
    location: location
    tags: allTags
    partitionCount: mirrorPartitions
    appIdentityId: appIdentityId
    appPrincipalId: identity.outputs.appPrincipalId
    captureIdentityId: captureIdentityId
    captureStorageAccountId: storage.outputs.id
    captureContainerName: storage.outputs.captureContainerName
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring-${deploymentSuffix}'
  params: {
    workspaceName: 'log-darkship-${take(environmentName, 50)}' // at most 63 characters
    applicationInsightsName: applicationInsightsName
    location: location
    tags: allTags
    appIdentityId: appIdentityId
    appPrincipalId: identity.outputs.appPrincipalId
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp-${deploymentSuffix}'
  params: {
    name: 'func-darkship-${take(environmentName, 32)}-${token}' // at most 60 characters
    planName: 'plan-darkship-${take(environmentName, 26)}' // at most 40 characters
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
    alwaysReadyHttpInstances: alwaysReadyHttpInstances <= maximumInstanceCount
      ? alwaysReadyHttpInstances
      : fail('alwaysReadyHttpInstances (${alwaysReadyHttpInstances}) must not exceed maximumInstanceCount (${maximumInstanceCount}).')
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts-${deploymentSuffix}'
  params: {
    namePrefix: 'darkship-${environmentName}'
    location: location
    tags: allTags
    applicationInsightsId: applicationInsightsId
    alertEmails: alertEmails
    alertWebhookUrl: alertWebhookUrl
    runbookUrl: runbookUrl
  }
  dependsOn: [monitoring]
}

module workbook 'modules/workbook.bicep' = {
  name: 'workbook-${deploymentSuffix}'
  params: {
    displayName: 'DarkShip (${environmentName})'
    location: location
    tags: allTags
    applicationInsightsId: applicationInsightsId
  }
  dependsOn: [monitoring]
}

@description('The function app (azd deploys the package to it).')
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name

@description('Base URL of the app: POST {url}/api/predict/{model}.')
output SERVICE_DARKSHIP_URL string = functionApp.outputs.url

@description('The storage account (darkship --settings needs AzureWebJobsStorage__accountName).')
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
