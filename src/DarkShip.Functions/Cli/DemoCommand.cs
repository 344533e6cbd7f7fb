using System.CommandLine;
using DarkShip.Functions.Hosting;
using DarkShip.Scoring.MLNet;
using DarkShip.Serving.Features;
using DarkShip.Serving.Ladder;
using DarkShip.Serving.Models;
using DarkShip.Serving.Registry;
using DarkShip.Serving.Training;
using Microsoft.Extensions.Logging.Abstractions;

namespace DarkShip.Functions.Cli;

/// <summary>
/// <c>darkship demo seed</c>: what <c>./run.sh</c> runs before it serves. Ingests the demo's consumer
/// and store features, registers the demo <c>fraud</c> model (trained by demo/generate_demo.py with
/// real XGBoost) as champion, version 1, its challenger, version 2, in the shadow at 10 % with demo
/// promotion rules small enough to watch it climb, and an ML.NET challenger, version 3, trained by
/// <c>darkship train</c>'s use case on demo/train.csv, in the shadow at 10 % too. Every step goes through the ladder, so
/// <c>models history fraud</c> shows it. Running it again changes nothing that is already there.
/// </summary>
internal static class DemoCommand
{
    /// <summary>The version the demo's ML.NET challenger is registered as.</summary>
    public const string MLNetVersion = "3";

    /// <summary>The demo's promotion rules: the defaults, with sample counts a laptop reaches in minutes.</summary>
    public static readonly IReadOnlyList<string> DemoRules = ["minSamples=100", "minGuardrailSamples=50", "minOutcomes=200"];

    /// <summary>
    /// The demo's challengers start in the shadow at 10 % (the ramp's second step): at the demo's 5 predictions a second
    /// they reach minSamples in a few minutes, and the ladder shows a move within one PromoteModels period.
    /// </summary>
    public const double DemoShadowShare = 10;

    public static Command Create()
    {
        var folder = new Option<DirectoryInfo>("--folder") { Description = "The demo folder.", DefaultValueFactory = _ => new DirectoryInfo("demo") };
        var settings = CliSettings.Option();
        var seed = new Command("seed", "Load the demo features, register the demo fraud model as champion and its challenger in the shadow.") { folder, settings };
        seed.SetAction(async (result, cancellationToken) =>
        {
            var account = CliSettings.Storage(result.GetValue(settings)!);
            return await SeedAsync(await StoresAsync(account, cancellationToken), result.GetValue(folder)!, result.InvocationConfiguration.Output, result.InvocationConfiguration.Error, cancellationToken);
        });
        return new Command("demo", "The demo data and model.") { seed };
    }

    /// <summary>The stores of <paramref name="account"/> the demo seeds, created where missing.</summary>
    public static async Task<DemoStores> StoresAsync(StorageAccount account, CancellationToken cancellationToken)
    {
        var (registry, artifacts, events) = await account.PrepareAsync(cancellationToken);
        var features = account.FeatureStore();
        return new DemoStores(features, features, registry, artifacts, events);
    }

    /// <summary>
    /// Ingests the demo's consumer and store features, registers the demo fraud model as champion
    /// (version 1) and, when the folder has it, the challenger (version 2) in the shadow at 10 %, both
    /// through <see cref="ModelRegistration"/> as an operator would; the exit code of the first failure, else 0.
    /// </summary>
    public static async Task<int> SeedAsync(DemoStores stores, DirectoryInfo folder, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        foreach (var (group, key) in new[] { ("consumer", "consumer_id"), ("store", "store_id") })
        {
            var code = await FeaturesCommand.IngestAsync(
                new IngestOptions(group, new FileInfo(Path.Combine(folder.FullName, group + ".csv")), key, "ts", SkipBadRows: false),
                stores.Writer, TimeProvider.System, output, error, cancellationToken);
            if (code != 0)
            {
                return code;
            }
        }

        var ladder = new ModelLadder(stores.Registry, stores.Events, TimeProvider.System, NullLogger<ModelLadder>.Instance);
        var registration = new ModelRegistration(stores.Registry, stores.Artifacts, ladder, new ModelLoader(stores.Features));
        var actor = new LadderActor("demo seed", "the demo's model");
        switch (await RegisterAsync(registration, "1", Path.Combine(folder.FullName, "fraud"), actor, cancellationToken))
        {
            case RegistrationOutcome.Registered:
                await ladder.ApplyAsync(new LadderCommand.Promote("fraud", "1"), actor, cancellationToken);
                await output.WriteLineAsync("Registered fraud version 1 as champion.");
                break;
            case RegistrationOutcome.AlreadyRegistered:
                break;
            case var failed:
                return await ReportAsync(failed, error);
        }

        var challenger = Path.Combine(folder.FullName, "fraud-challenger");
        if (!Directory.Exists(challenger))
        {
            return 0;
        }

        actor = actor with { Reason = "the demo's challenger" };
        switch (await RegisterAsync(registration, "2", challenger, actor, cancellationToken))
        {
            case RegistrationOutcome.Registered:
                await ladder.ApplyAsync(new LadderCommand.Shadow("fraud", "2", DemoShadowShare), actor, cancellationToken);
                var rules = DemoRules.Aggregate((await stores.Registry.ReadAsync(cancellationToken)).RulesFor("fraud"), (r, set) => r.With(set));
                await stores.Registry.TrySetRulesAsync("fraud", rules, cancellationToken);
                await output.WriteLineAsync($"Registered fraud version 2 in the shadow at {DemoShadowShare} % (demo rules: {string.Join(", ", DemoRules)}).");
                break;
            case RegistrationOutcome.AlreadyRegistered:
                break;
            case var failed:
                return await ReportAsync(failed, error);
        }

        return await SeedMLNetChallengerAsync(registration, ladder, stores.Registry, folder, output, error, cancellationToken);
    }

    /// <summary>
    /// The demo's ML.NET challenger, version 3: trained by <c>darkship train</c>'s use case (FastTree, seed 7)
    /// on <c>demo/train.csv</c> for the champion's manifest, registered, and put in the shadow at 10 % beside
    /// the XGBoost challenger, so <c>models status fraud</c> shows two formats. Skipped when it is there.
    /// </summary>
    private static async Task<int> SeedMLNetChallengerAsync(ModelRegistration registration, ModelLadder ladder, IModelRegistry registry, DirectoryInfo folder, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var trainingSet = Path.Combine(folder.FullName, "train.csv");
        if (!File.Exists(trainingSet) || (await registry.ReadAsync(cancellationToken)).Of("fraud").Any(v => v.Version == MLNetVersion))
        {
            return 0;
        }

        TrainingOutcome trained;
        using (var reader = new StreamReader(trainingSet))
        {
            var manifest = await File.ReadAllBytesAsync(Path.Combine(folder.FullName, "fraud", "manifest.json"), cancellationToken);
            trained = ChallengerTraining.Train(new TrainRequest("train.csv", reader, manifest, TrainerKind.FastTree, Seed: 7), cancellationToken);
        }

        if (trained is not TrainingOutcome.Trained model)
        {
            await error.WriteLineAsync("demo seed: the ML.NET challenger could not be trained:\n  " + string.Join("\n  ", ((TrainingOutcome.BadInput)trained).Problems));
            return ModelsCommand.Failed;
        }

        var actor = new LadderActor("demo seed", "the demo's ML.NET challenger, trained by darkship train (fasttree, seed 7) on demo/train.csv");
        switch (await registration.RegisterAsync(new RegistrationRequest("fraud", model.Model, model.Manifest, MLNetVersion), actor, cancellationToken))
        {
            case RegistrationOutcome.Registered:
                await ladder.ApplyAsync(new LadderCommand.Shadow("fraud", MLNetVersion, DemoShadowShare), actor, cancellationToken);
                await output.WriteLineAsync($"Trained fraud version {MLNetVersion} with ML.NET (fasttree, validation auc {model.Validation?.Auc:0.000}) and put it in the shadow at {DemoShadowShare} %.");
                return 0;
            case RegistrationOutcome.AlreadyRegistered:
                return 0;
            case var failed:
                return await ReportAsync(failed, error);
        }
    }

    private static async Task<RegistrationOutcome> RegisterAsync(ModelRegistration registration, string version, string folder, LadderActor actor, CancellationToken cancellationToken) =>
        await registration.RegisterAsync(
            new RegistrationRequest("fraud", await File.ReadAllBytesAsync(Path.Combine(folder, "model.json"), cancellationToken), await File.ReadAllBytesAsync(Path.Combine(folder, "manifest.json"), cancellationToken), version),
            actor, cancellationToken);

    private static async Task<int> ReportAsync(RegistrationOutcome outcome, TextWriter error)
    {
        await error.WriteLineAsync(outcome switch
        {
            RegistrationOutcome.Invalid invalid => "demo seed: the demo model cannot be registered:\n  " + string.Join("\n  ", invalid.Problems),
            RegistrationOutcome.Refused refused => "demo seed: the demo model was not registered: " + refused.Reason,
            _ => $"demo seed: {outcome}",
        });
        return ModelsCommand.Failed;
    }
}

/// <summary>Where the demo seeds: the storage account's stores, or in-memory ones for the benchmark.</summary>
/// <param name="Writer">Where features are ingested.</param>
/// <param name="Features">The same store, read (registration checks the manifest against it).</param>
/// <param name="Registry">The model registry.</param>
/// <param name="Artifacts">Where model files go.</param>
/// <param name="Events">The ladder's audit log.</param>
internal sealed record DemoStores(IFeatureWriter Writer, IFeatureStore Features, IModelRegistry Registry, IModelArtifactStore Artifacts, IModelEventLog Events);
