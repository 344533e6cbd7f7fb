// The mirror: an Event Hubs namespace with local (SAS) auth disabled, the `mirror` hub every
// prediction is sent to, the `shadow` consumer group ShadowScore reads with, and Capture writing
// every event to Blob as Avro: the complete raw log, kept independent of any consumer.

import { resourceTags } from 'types.bicep'

@description('Namespace name.')
param name string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags resourceTags = {}

@description('Hub name (app setting MirrorHubName).')
param hubName string = 'mirror'

@description('Consumer group of the ShadowScore function (app setting ShadowConsumerGroup).')
param consumerGroupName string = 'shadow'

@description('Partitions of the mirror hub; the key is the assignment entity, so an entity\'s events stay in order.')
@minValue(1)
@maxValue(32)
param partitionCount int = 4

@description('Throughput units (Standard tier).')
@minValue(1)
@maxValue(40)
param capacity int = 1

@description('Days events are retained in the hub (ShadowScore can fall this far behind without loss; Capture keeps them for good).')
@minValue(1)
@maxValue(7)
param retentionDays int = 1

@description('Resource id of the identity the function app runs as (names its role assignments).')
param appIdentityId string

@description('Principal id of the identity the function app runs as.')
param appPrincipalId string

@description('Resource id of the identity Capture writes with.')
param captureIdentityId string

@description('Resource id of the storage account Capture writes to.')
param captureStorageAccountId string

@description('Container Capture writes to.')
param captureContainerName string

@description('Seconds between Capture files (60-900).')
@minValue(60)
@maxValue(900)
param captureIntervalSeconds int = 300

var roles = {
  eventHubsDataSender: '2b629674-e913-4c01-ae53-ef4638d8f975'
  eventHubsDataReceiver: 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde'
}

resource namespace 'Microsoft.EventHub/namespaces@2026-01-01' = {
  name: name
  location: location
  tags: tags
  sku: { name: 'Standard', tier: 'Standard', capacity: capacity }
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${captureIdentityId}': {} }
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
  }
}

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2026-01-01' = {
  parent: namespace
  name: hubName
  properties: {
    partitionCount: partitionCount
    messageRetentionInDays: retentionDays
    captureDescription: {
      enabled: true
      encoding: 'Avro'
      intervalInSeconds: captureIntervalSeconds
      sizeLimitInBytes: 314572800
      skipEmptyArchives: true
      destination: {
        name: 'EventHubArchive.AzureBlockBlob'
        identity: {
          type: 'UserAssigned'
          userAssignedIdentity: captureIdentityId
        }
        properties: {
          storageAccountResourceId: captureStorageAccountId
          blobContainer: captureContainerName
          archiveNameFormat: '{Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}'
        }
      }
    }
  }
}

resource consumerGroup 'Microsoft.EventHub/namespaces/eventhubs/consumergroups@2026-01-01' = {
  parent: hub
  name: consumerGroupName
}

// Predict sends the mirror; ShadowScore's trigger receives it. Scoped to the hub, not the namespace.
resource appSender 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hub.id, appIdentityId, roles.eventHubsDataSender)
  scope: hub
  properties: {
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventHubsDataSender)
  }
}

resource appReceiver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hub.id, appIdentityId, roles.eventHubsDataReceiver)
  scope: hub
  properties: {
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.eventHubsDataReceiver)
  }
}

@description('The namespace\'s host name (app setting MirrorHub__fullyQualifiedNamespace).')
output fullyQualifiedNamespace string = parseUri(namespace.properties.serviceBusEndpoint).host // the cloud's own suffix (sovereign clouds differ)

@description('The namespace\'s resource id (alert scopes).')
output namespaceId string = namespace.id

@description('The hub\'s name.')
output hubName string = hub.name

@description('The consumer group\'s name.')
output consumerGroupName string = consumerGroup.name
