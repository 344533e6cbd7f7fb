// On-call alerts: log search alerts over Application Insights, each sending to one action group
// (email and webhook receivers). Every alert splits by model and version where the telemetry carries
// them, so the alert names the version at fault, and its description links the runbook section for it.
// The metric names are DarkShip's (src/DarkShip.Serving/Telemetry/DarkShipTelemetry.cs); `Predict` is
// the HTTP function's name (FunctionCatalog). BicepTemplateTests hold both against the code.

import { resourceTags } from 'types.bicep'

@description('Prefix of the alert rule names.')
param namePrefix string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags resourceTags = {}

@description('Application Insights component the queries run on.')
param applicationInsightsId string

@description('E-mail addresses paged by every alert.')
param alertEmails string[] = []

@description('Webhook called by every alert (e.g. the on-call tool\'s); empty for none.')
param alertWebhookUrl string = ''

@description('Base URL of docs/runbook.md (each alert links its own section).')
param runbookUrl string

@description('Predict: highest tolerated share of 5xx answers over 15 minutes.')
param predictFailureRate string = '0.01'

@description('Predict: highest tolerated p95 duration in ms over 15 minutes.')
param predictP95Milliseconds int = 150

@description('Shadow: highest tolerated share of failed scorings (errors and time-outs) of one version over 15 minutes.')
param shadowFailureRate string = '0.05'

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: '${namePrefix}-oncall'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'darkship'
    enabled: true
    emailReceivers: [for (email, i) in alertEmails: {
      name: 'email-${i}'
      emailAddress: email
      useCommonAlertSchema: true
    }]
    webhookReceivers: empty(alertWebhookUrl) ? [] : [
      {
        name: 'webhook'
        serviceUri: alertWebhookUrl
        useCommonAlertSchema: true
      }
    ]
  }
}

// One entry per alert: the runbook anchor, the query (one row per firing dimension set, column
// `value` measured), the threshold, the severity (0 critical … 4 verbose), the split dimensions.
var alerts = [
  {
    key: 'drift-alert'
    title: 'Drift above its alert threshold'
    description: 'A feature, the prediction, or a feature\'s missing or stale rate of the model version in the alert\'s dimensions crossed its drift alert threshold (DriftMonitor).'
    severity: 2
    query: 'customMetrics | where name == "darkship.drift.alerts" | extend model = tostring(customDimensions.model), version = tostring(customDimensions.version), subject = tostring(customDimensions.subject) | summarize value = sum(valueSum) by model, version, subject'
    threshold: 0
    dimensions: ['model', 'version', 'subject']
  }
  {
    key: 'shadow-failures'
    title: 'Shadow failure rate'
    description: 'The shadow model version in the alert\'s dimensions fails (throws, returns NaN, or overruns its budget) on more than ${shadowFailureRate} of its scorings.'
    severity: 3
    query: 'customMetrics | where name == "darkship.shadow.scorings" | extend model = tostring(customDimensions.model), version = tostring(customDimensions.version), outcome = tostring(customDimensions.outcome) | summarize failed = sumif(valueSum, outcome in ("Error", "TimedOut")), total = sum(valueSum) by model, version | where total >= 100 | extend value = failed / total'
    threshold: json(shadowFailureRate)
    dimensions: ['model', 'version']
  }
  {
    key: 'predict-errors'
    title: 'Predict 5xx rate'
    description: 'More than ${predictFailureRate} of Predict calls for the model in the alert\'s dimensions answered 5xx (the champion cannot score, the registry is unreadable, or a required feature group timed out).'
    severity: 1
    query: 'requests | where name == "Predict" | extend model = extract("/api/predict/([^/?]+)", 1, url) | summarize failed = countif(toint(resultCode) >= 500), total = count() by model | where total >= 50 | extend value = todouble(failed) / total'
    threshold: json(predictFailureRate)
    dimensions: ['model']
  }
  {
    key: 'predict-latency'
    title: 'Predict p95 latency'
    description: 'The 95th percentile of Predict calls for the model in the alert\'s dimensions took longer than ${predictP95Milliseconds} ms.'
    severity: 2
    query: 'requests | where name == "Predict" | extend model = extract("/api/predict/([^/?]+)", 1, url) | summarize value = percentile(duration, 95), total = count() by model | where total >= 50'
    threshold: predictP95Milliseconds
    dimensions: ['model']
  }
  {
    key: 'mirror-drops'
    title: 'Mirror events dropped'
    description: 'Mirror events were dropped (the buffer was full) or lost after every retry: shadows and the raw log miss those requests; the live answers were not affected.'
    severity: 2
    query: 'customMetrics | where name in ("darkship.queue.dropped", "darkship.queue.failed") | extend queue = tostring(customDimensions.queue) | where queue == "mirror" | summarize value = sum(valueSum)'
    threshold: 0
    dimensions: []
  }
  {
    key: 'dead-letters'
    title: 'Dead letters'
    description: 'Mirror events could not be read by ShadowScore and were set aside in the DeadLetters table.'
    severity: 3
    query: 'customMetrics | where name == "darkship.deadletters" | extend source = tostring(customDimensions.source) | summarize value = sum(valueSum) by source'
    threshold: 0
    dimensions: ['source']
  }
  {
    key: 'automatic-rollback'
    title: 'Automatic rollback'
    description: 'PromoteModels rolled back the model version in the alert\'s dimensions (a guardrail broke, or the experiment found the champion better).'
    severity: 1
    query: 'customMetrics | where name == "darkship.ladder.transitions" | extend model = tostring(customDimensions.model), version = tostring(customDimensions.version), action = tostring(customDimensions.action), actor = tostring(customDimensions.actor) | where action == "rollback" and actor == "PromoteModels" | summarize value = sum(valueSum) by model, version'
    threshold: 0
    dimensions: ['model', 'version']
  }
]

resource rules 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = [for alert in alerts: {
  name: '${namePrefix}-${alert.key}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'DarkShip: ${alert.title}'
    description: '${alert.description} Runbook: ${runbookUrl}#${alert.key}'
    severity: alert.severity
    enabled: true
    scopes: [applicationInsightsId]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: alert.query
          timeAggregation: 'Maximum'
          metricMeasureColumn: 'value'
          operator: 'GreaterThan'
          threshold: alert.threshold
          dimensions: [for d in alert.dimensions: {
            name: d
            operator: 'Include'
            values: ['*']
          }]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [actionGroup.id]
      customProperties: {
        runbook: '${runbookUrl}#${alert.key}'
      }
    }
  }
}]

@description('The action group\'s resource id.')
output actionGroupId string = actionGroup.id
