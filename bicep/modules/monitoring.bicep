// Log Analytics and workspace-based Application Insights with local (instrumentation-key) auth
// disabled: telemetry is accepted only with an Entra token of an identity holding Monitoring
// Metrics Publisher on the component.

import { resourceTags } from 'types.bicep'

@description('Workspace name.')
param workspaceName string

@description('Application Insights component name.')
param applicationInsightsName string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags resourceTags = {}

@description('Days logs are kept.')
@minValue(30)
@maxValue(730)
param retentionDays int = 30

@description('Resource id of the identity the function app runs as (names its role assignment).')
param appIdentityId string

@description('Principal id of the identity the function app runs as.')
param appPrincipalId string

var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource workspace 'Microsoft.OperationalInsights/workspaces@2026-03-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: retentionDays
  }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
  }
}

resource appPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, appIdentityId, monitoringMetricsPublisher)
  scope: insights
  properties: {
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
  }
}

@description('The connection string. With local auth disabled it admits nothing without a token, but it names the component: kept out of deployment outputs all the same.')
@secure()
output connectionString string = insights.properties.ConnectionString

@description('The component\'s resource id (alert scopes).')
output applicationInsightsId string = insights.id

@description('The workspace\'s resource id.')
output workspaceId string = workspace.id
