// Parses and analyses KQL queries with Microsoft's Kusto language service (@kusto/language-service-next,
// the engine behind Azure Data Explorer's and Log Analytics' editors) against a table schema.
// Usage:  node tools/kql/check-queries.cjs SCHEMA.json < queries.json
// SCHEMA: {"tables": {"table": "(column:type, ...)"}}; stdin: [{"name": "...", "query": "..."}]
// stdout: [{"name", "diagnostics": [{"code", "severity", "message", "start"}], "columns": [{"name", "type"}]}]
// Used by BicepTemplateTests: every alert and workbook query, as compiled into the ARM template.
'use strict';
require('@kusto/language-service-next/bridge.min.js');
require('@kusto/language-service-next/Kusto.Language.Bridge.min.js');

const K = globalThis.Kusto.Language;
const fs = require('fs');
const schema = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const queries = JSON.parse(fs.readFileSync(0, 'utf8'));
const tables = Object.entries(schema.tables).map(([name, columns]) => new K.Symbols.TableSymbol.$ctor7(name, columns, null));
const globals = K.GlobalState.Default.WithDatabase(new K.Symbols.DatabaseSymbol.ctor('applicationinsights', tables));

const list = (items, map) => Array.from({ length: items ? items.Count : 0 }, (_, i) => map(items.getItem(i)));
const results = queries.map(({ name, query }) => {
  const code = K.KustoCode.ParseAndAnalyze(query, globals);
  return {
    name,
    diagnostics: list(code.GetDiagnostics(), d => ({ code: d.Code, severity: d.Severity, message: d.Message, start: d.Start })),
    columns: list(code.ResultType && code.ResultType.Columns, c => ({ name: c.Name, type: c.Type.Name })),
  };
});
process.stdout.write(JSON.stringify(results));
