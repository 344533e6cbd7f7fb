// User-assigned identities: one the function app runs as (storage, Event Hubs, Application Insights),
// one Event Hubs Capture writes the raw log with. Nothing in DarkShip uses a key or a connection string.

import { resourceTags } from 'types.bicep'

@description('Name of the identity the function app runs as.')
param appIdentityName string

@description('Name of the identity Event Hubs Capture writes Avro files with.')
param captureIdentityName string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags resourceTags = {}

resource app 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: appIdentityName
  location: location
  tags: tags
}

resource capture 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: captureIdentityName
  location: location
  tags: tags
}

@description('The app identity\'s resource id.')
output appIdentityId string = app.id

@description('The app identity\'s client id (the __clientId settings).')
output appClientId string = app.properties.clientId

@description('The app identity\'s principal id (role assignments).')
output appPrincipalId string = app.properties.principalId

@description('The capture identity\'s resource id.')
output captureIdentityId string = capture.id

@description('The capture identity\'s principal id.')
output capturePrincipalId string = capture.properties.principalId
