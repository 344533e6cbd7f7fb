// The function app on the Flex Consumption plan: runtime `custom` (the DarkShip.Functions custom
// handler), the deployment package in a blob container read with the app's identity, and every
// connection identity-based. The app settings are exactly what the code and the functions'
// function.json files read (held against the code by FunctionCatalogTests/BicepTemplateTests).

import { resourceTags } from 'types.bicep'

@description('Function app name.')
param name string

@description('Plan name.')
param planName string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags resourceTags = {}

@description('Resource id of the identity the app runs as.')
param identityId string

@description('Client id of that identity.')
param identityClientId string

@description('Storage account name (AzureWebJobsStorage__accountName: features, registry, model log, host state).')
param storageAccountName string

@description('Blob endpoint of the storage account.')
param blobEndpoint string

@description('Container holding the deployment package.')
param deploymentContainerName string

@description('Event Hubs namespace host name of the mirror.')
param eventHubsNamespace string

@description('Mirror hub name.')
param mirrorHubName string

@description('Consumer group ShadowScore reads with.')
param shadowConsumerGroup string

@description('Application Insights connection string.')
@secure()
param applicationInsightsConnectionString string

@description('Memory per instance in MB (Flex Consumption: 512, 2048 or 4096).')
@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Most instances the app scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Always-ready instances for the HTTP functions (Predict, Outcomes): no cold start on the live path. 0 for none.')
@minValue(0)
param alwaysReadyHttpInstances int = 1

@description('Salt of the experiment-arm and shadow-sample hash (Serving__AssignmentSalt). Changing it reshuffles every arm.')
param assignmentSalt string = 'darkship'

@description('NCRONTAB schedules of the timers.')
param promoteModelsSchedule string = '0 */5 * * * *'
param driftMonitorSchedule string = '0 */15 * * * *'
param joinOutcomesSchedule string = '30 */10 * * * *'

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      runtime: { name: 'custom', version: '1.0' }
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        alwaysReady: alwaysReadyHttpInstances > 0 ? [{ name: 'http', instanceCount: alwaysReadyHttpInstances }] : []
      }
    }
  }
}

resource settings 'Microsoft.Web/sites/config@2025-03-01' = {
  parent: app
  name: 'appsettings'
  properties: {
    // The host's own storage and DarkShip's (StorageAccount.TryFrom reads the same connection).
    AzureWebJobsStorage__accountName: storageAccountName
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    // The mirror: Predict sends (ServiceCollectionExtensions.MirrorConnection), ShadowScore's trigger receives.
    MirrorHub__fullyQualifiedNamespace: eventHubsNamespace
    MirrorHub__credential: 'managedidentity'
    MirrorHub__clientId: identityClientId
    // Binding expressions of the function.json files (FunctionCatalog.SettingDefaults).
    MirrorHubName: mirrorHubName
    ShadowConsumerGroup: shadowConsumerGroup
    PromoteModelsSchedule: promoteModelsSchedule
    DriftMonitorSchedule: driftMonitorSchedule
    JoinOutcomesSchedule: joinOutcomesSchedule
    // Telemetry with an Entra token (the component has local auth disabled).
    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    Serving__AssignmentSalt: assignmentSalt
    // The .NET runtime's own settings, read only at process start (RuntimeSettings.AppSettings: W^X off, ~40 ms of cold start).
    DOTNET_EnableWriteXorExecute: '0'
  }
}

@description('The app\'s name.')
output name string = app.name

@description('The app\'s resource id (alert scopes).')
output id string = app.id

@description('The app\'s base URL.')
output url string = 'https://${app.properties.defaultHostName}'
