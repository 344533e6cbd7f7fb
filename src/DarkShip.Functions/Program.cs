using System.CommandLine;
using DarkShip.Functions.Cli;

// The Functions host launches the handler on every cold start: serve without building the verb tree.
if (ServeCommand.IsLaunchedByHost(args))
{
    return await ServeCommand.RunAsync(args[1..], CancellationToken.None);
}

// One executable, several verbs. With no verb it serves, as the Functions host launches it.
var root = new RootCommand("DarkShip: serve machine-learning models from Azure Functions and ship new ones darkly.")
{
    ServeCommand.Create(),      // the custom handler the Functions host launches
    LocalCommand.Create(),      // the whole system on one machine: handler + stand-ins for the host's triggers
    ScoreCommand.Create(),      // offline batch scoring of a model file
    FeaturesCommand.Create(),   // feature groups: ingest snapshots from CSV
    ModelsCommand.Create(),     // the registry and its ladder: register, shadow, experiment, promote, roll back, status
    MonitoringCommand.Drift(),  // DriftMonitor's latest reports, a bar per feature
    MonitoringCommand.Metrics(), // outcome metrics per version and window
    ReportCommand.Create(),     // the model report: one self-contained HTML page
    ExportCommand.Create(),     // training sets from the model log, features as served, labels joined
    TrainCommand.Create(),      // an ML.NET challenger trained on an exported training set
    ReplayCommand.Create(),     // a candidate scored offline on logged traffic, compared as the shadow path does
    DemoCommand.Create(),       // seed the local system with demo features and a fraud model
    FunctionsCommand.Create(),  // function.json files for the publish package
};
root.TreatUnmatchedTokensAsErrors = false;
root.SetAction(ServeCommand.RunAsync);

return await root.Parse(args).InvokeAsync();
