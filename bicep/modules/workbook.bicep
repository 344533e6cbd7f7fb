// The on-call workbook over Application Insights: the ladder (every transition), shadow versus
// champion, drift per feature, and latency. Queries use DarkShip's metric and event names
// (DarkShipTelemetry, events 6100 ModelTransition); BicepTemplateTests hold them against the code.

import { resourceTags } from 'types.bicep'

@description('Workbook display name.')
param displayName string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags resourceTags = {}

@description('Application Insights component the queries run on.')
param applicationInsightsId string

var text = [
  { title: '## DarkShip', body: 'The ladder, shadows against the champion, drift and latency. Alerts and what to do: docs/runbook.md.' }
]

var panels = [
  {
    name: 'ladder'
    title: 'The ladder: every transition'
    visualization: 'table'
    query: 'traces | where tostring(customDimensions.EventName) == "ModelTransition" | project timestamp, model = tostring(customDimensions.Model), version = tostring(customDimensions.Version), action = tostring(customDimensions.Action), from = tostring(customDimensions.From), to = tostring(customDimensions.To), actor = tostring(customDimensions.Actor), reason = tostring(customDimensions.Reason) | order by timestamp desc'
  }
  {
    name: 'agreement'
    title: 'Shadow against the champion: decision agreement'
    visualization: 'timechart'
    query: 'customMetrics | where name == "darkship.shadow.pairs" | extend series = strcat(tostring(customDimensions.model), " v", tostring(customDimensions.version)), agrees = tostring(customDimensions.agrees) == "True" | summarize agreement = sumif(valueSum, agrees) / sum(valueSum) by series, bin(timestamp, 15m)'
  }
  {
    name: 'shadow-outcomes'
    title: 'Shadow scorings by outcome'
    visualization: 'timechart'
    query: 'customMetrics | where name == "darkship.shadow.scorings" | extend series = strcat(tostring(customDimensions.model), " v", tostring(customDimensions.version), " ", tostring(customDimensions.outcome)) | summarize scorings = sum(valueSum) by series, bin(timestamp, 15m)'
  }
  {
    name: 'drift'
    title: 'Drift per feature against the training baseline (largest PSI in the range)'
    visualization: 'table'
    query: 'customMetrics | where name == "darkship.drift.psi" and tostring(customDimensions.reference) == "baseline" | extend model = tostring(customDimensions.model), version = tostring(customDimensions.version), feature = tostring(customDimensions.subject), status = tostring(customDimensions.status) | summarize psi = max(valueMax), arg_max(timestamp, status) by model, version, feature | project model, version, feature, psi, status, lastSeen = timestamp | order by psi desc'
  }
  {
    name: 'latency'
    title: 'Predict latency by stage (mean, ms)'
    visualization: 'timechart'
    query: 'customMetrics | where name == "darkship.predict.duration" | extend stage = tostring(customDimensions.stage) | summarize ms = sum(valueSum) / sum(valueCount) by stage, bin(timestamp, 5m)'
  }
  {
    name: 'requests'
    title: 'Predict as the host saw it: p50 and p95 (ms)'
    visualization: 'timechart'
    query: 'requests | where name == "Predict" | summarize p50 = percentile(duration, 50), p95 = percentile(duration, 95) by bin(timestamp, 5m)'
  }
]

var textItems = [for t in text: {
  type: 1
  name: 'intro'
  content: { json: '${t.title}\n\n${t.body}' }
}]

var panelItems = [for p in panels: {
  type: 3
  name: p.name
  content: {
    version: 'KqlItem/1.0'
    title: p.title
    query: p.query
    size: 0
    timeContext: { durationMs: 86400000 }
    queryType: 0
    resourceType: 'microsoft.insights/components'
    visualization: p.visualization
  }
}]

var content = {
  version: 'Notebook/1.0'
  items: concat(textItems, panelItems)
  fallbackResourceIds: [applicationInsightsId]
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, applicationInsightsId, displayName)
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: applicationInsightsId
    serializedData: string(content)
  }
}

@description('The workbook\'s resource id.')
output id string = workbook.id
