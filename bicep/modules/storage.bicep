// The storage account DarkShip keeps everything in: the host's own state (AzureWebJobsStorage:
// timers' leases, Event Hubs checkpoints), the deployment package, the feature tables, the registry,
// the model log, outcomes and monitoring tables, the model files, and the Event Hubs Capture archive.
// Keys are disabled: every client authenticates with Entra ID.

import { resourceTags } from 'types.bicep'

@description('Storage account name (3-24 lower-case letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags resourceTags = {}

@description('Replication.')
@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_RAGRS'])
param skuName string = 'Standard_ZRS'

@description('Resource id of the identity the function app runs as (names its role assignments: known before deployment, so What-If can predict them).')
param appIdentityId string

@description('Principal id of the identity the function app runs as.')
param appPrincipalId string

@description('Resource id of the identity Event Hubs Capture writes with.')
param captureIdentityId string

@description('Principal id of the identity Event Hubs Capture writes with.')
param capturePrincipalId string

@description('Container the deployment package is uploaded to (Flex Consumption).')
param deploymentContainerName string = 'deployment'

@description('Container Event Hubs Capture writes the raw mirror log to (Avro).')
param captureContainerName string = 'mirror-capture'

// The tables the code creates and uses (src/DarkShip.Storage/Adapters/*: each adapter's TableName);
// created here too so a fresh deployment serves before the first operator command. Feature tables
// (`features{group}`) are created by `darkship features ingest`.
var tableNames = [
  'Models'
  'ModelEvents'
  'PredictionLog'
  'Aggregates'
  'DeadLetters'
  'Outcomes'
  'LabelledPredictions'
  'Drift'
  'FeatureGroups'
]

// Model files (BlobModelArtifactStore.ContainerName), the package, the capture archive.
var containerNames = [
  'models'
  deploymentContainerName
  captureContainerName
]

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
}

resource account 'Microsoft.Storage/storageAccounts@2026-09-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: skuName }
  properties: {
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    defaultToOAuthAuthentication: true
    publicNetworkAccess: 'Enabled'
  }
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2026-09-01' = {
  parent: account
  name: 'default'
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-09-01' = [for container in containerNames: {
  parent: blobs
  name: container
  properties: { publicAccess: 'None' }
}]

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2026-09-01' = {
  parent: account
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2026-09-01' = [for table in tableNames: {
  parent: tableService
  name: table
}]

// The host keeps timer leases and Event Hubs checkpoints in blobs, and DarkShip its model files:
// Storage Blob Data Owner is what the Functions host requires for identity-based AzureWebJobsStorage.
resource appBlobOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, appIdentityId, roles.storageBlobDataOwner)
  scope: account
  properties: {
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
  }
}

// Features, registry, model log, outcomes and monitoring tables.
resource appTableContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, appIdentityId, roles.storageTableDataContributor)
  scope: account
  properties: {
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
  }
}

// Capture writes to its own container and nowhere else.
resource captureContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-09-01' existing = {
  parent: blobs
  name: captureContainerName
}

resource captureWriter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(account.id, captureIdentityId, roles.storageBlobDataContributor, captureContainerName)
  scope: captureContainer
  properties: {
    principalId: capturePrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
  }
  dependsOn: [containers]
}

@description('The account\'s resource id.')
output id string = account.id

@description('The account\'s name.')
output name string = account.name

@description('The blob endpoint, e.g. https://name.blob.core.windows.net/.')
output blobEndpoint string = account.properties.primaryEndpoints.blob

@description('The deployment container\'s name.')
output deploymentContainerName string = deploymentContainerName

@description('The capture container\'s name.')
output captureContainerName string = captureContainerName
