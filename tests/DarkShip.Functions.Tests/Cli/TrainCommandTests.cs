using System.Globalization;
using System.Text;
using DarkShip.Functions.Cli;
using DarkShip.Scoring.MLNet;
using DarkShip.Serving.Manifests;
using DarkShip.Serving.Models;

namespace DarkShip.Functions.Tests.Cli;

/// <summary><c>darkship train</c> on files: what it writes, and the clear refusals (exit 2, nothing written).</summary>
public sealed class TrainCommandTests : IDisposable
{
    private readonly DirectoryInfo dir = Directory.CreateTempSubdirectory("darkship-train-");

    public void Dispose() => dir.Delete(recursive: true);

    private static string DemoManifest => Path.Combine(TestPaths.RepoRoot, "demo", "fraud", "manifest.json");

    [Theory]
    [InlineData(TrainerKind.FastTree)]
    [InlineData(TrainerKind.LightGbm)]
    [InlineData(TrainerKind.Sdca)]
    public async Task ATrainingSet_TrainsAModelThatRegistersWithItsManifest(TrainerKind trainer)
    {
        var input = TrainingSet(rows: 800, labelled: row => true);
        var output = new DirectoryInfo(Path.Combine(dir.FullName, "out"));
        var (stdout, stderr) = (new StringWriter(), new StringWriter());

        var code = await TrainCommand.RunAsync(input, new FileInfo(DemoManifest), trainer, "label", 0.25, 3, output, stdout, stderr, CancellationToken.None);

        Assert.True(code == 0, stderr.ToString());
        Assert.Contains("trained " + trainer.ToString().ToLowerInvariant() + " on 600 labelled rows; 200 held out", stdout.ToString(), StringComparison.Ordinal);
        Assert.Matches(@"validation: auc 0\.\d{4}, logloss \d\.\d{4}", stdout.ToString());
        var manifestBytes = File.ReadAllBytes(Path.Combine(output.FullName, "manifest.json"));
        var manifest = ManifestReader.Parse(manifestBytes);
        Assert.Equal(("mlnet", null), (manifest.Format, manifest.Version));
        Assert.Equal(ManifestReader.Parse(File.ReadAllBytes(DemoManifest)).Features.Select(f => (f.Name, f.Group, f.Type)), manifest.Features.Select(f => (f.Name, f.Group, f.Type)));
        Assert.Contains("\"rows\": 600", Encoding.UTF8.GetString(manifestBytes), StringComparison.Ordinal);

        // What registration does with it: compiled against the manifest, valid, scoring.
        var check = await new ModelLoader(new DarkShip.Testing.InMemoryFeatureStore()).CheckAsync(File.ReadAllBytes(Path.Combine(output.FullName, "model.zip")), manifestBytes, "fraud", CancellationToken.None);
        Assert.Equal(ModelFormat.MLNet, check.Format);
        Assert.DoesNotContain(check.Problems, p => p.Contains("model", StringComparison.Ordinal) && !p.Contains("holds no ingested features", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NoLabelColumn_AFeatureTheFileLacks_AreNamed_AndNothingIsWritten()
    {
        var input = TrainingSet(rows: 50, labelled: _ => true, dropColumns: ["label", "store_category"]);
        var output = new DirectoryInfo(Path.Combine(dir.FullName, "out"));
        var stderr = new StringWriter();

        var code = await TrainCommand.RunAsync(input, new FileInfo(DemoManifest), TrainerKind.FastTree, "label", 0.2, 7, output, TextWriter.Null, stderr, CancellationToken.None);

        Assert.Equal(2, code);
        Assert.Contains("no column for the manifest's feature store_category", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("no label column 'label'", stderr.ToString(), StringComparison.Ordinal);
        Assert.False(output.Exists);
    }

    [Fact]
    public async Task NoLabelledRows_IsRefused()
    {
        var input = TrainingSet(rows: 50, labelled: _ => false);
        var stderr = new StringWriter();

        var code = await TrainCommand.RunAsync(input, new FileInfo(DemoManifest), TrainerKind.FastTree, "label", 0.2, 7, new DirectoryInfo(Path.Combine(dir.FullName, "out")), TextWriter.Null, stderr, CancellationToken.None);

        Assert.Equal(2, code);
        Assert.Contains("no labelled rows (50 rows without a label): join outcomes before training", stderr.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadCellsAndLabels_AreReportedByLine()
    {
        var input = TrainingSet(rows: 20, labelled: _ => true, edit: (line, cells) =>
        {
            if (line == 3)
            {
                cells["amount"] = "lots";
            }

            if (line == 5)
            {
                cells["label"] = "0.5";
            }
        });
        var stderr = new StringWriter();

        var code = await TrainCommand.RunAsync(input, new FileInfo(DemoManifest), TrainerKind.FastTree, "label", 0.2, 7, new DirectoryInfo(Path.Combine(dir.FullName, "out")), TextWriter.Null, stderr, CancellationToken.None);

        Assert.Equal(2, code);
        Assert.Contains("train.csv line 3: 'amount' (lots) must be a number", stderr.ToString(), StringComparison.Ordinal);
        Assert.Contains("train.csv line 5: label '0.5' is not 0 or 1", stderr.ToString(), StringComparison.Ordinal);
    }

    /// <summary>A training set shaped as export writes it, for the demo manifest's features; fraud follows the amount.</summary>
    private FileInfo TrainingSet(int rows, Func<int, bool> labelled, string[]? dropColumns = null, Action<int, Dictionary<string, string>>? edit = null)
    {
        string[] columns = ["prediction_id", "model", "version", "arm", "served", "predicted_at", "observed_at", "label", "score", "amount", "hour_of_day", "txn_count_7d", "avg_amount_30d", "account_age_days", "is_verified", "store_chargeback_rate_90d", "store_category"];
        var kept = columns.Except(dropColumns ?? []).ToArray();
        var random = new Random(1);
        var lines = new List<string> { string.Join(",", kept) };
        for (var i = 0; i < rows; i++)
        {
            var amount = random.Next(1, 1000);
            var cells = new Dictionary<string, string>
            {
                ["prediction_id"] = $"p{i}", ["model"] = "fraud", ["version"] = "1", ["arm"] = "champion", ["served"] = "true",
                ["predicted_at"] = "2026-11-20T00:00:00.0000000Z", ["observed_at"] = "",
                ["label"] = labelled(i) ? (random.NextDouble() < (amount > 700 ? 0.85 : 0.05) ? "1" : "0") : "",
                ["score"] = "0.1", ["amount"] = amount.ToString(CultureInfo.InvariantCulture), ["hour_of_day"] = (i % 24).ToString(CultureInfo.InvariantCulture),
                ["txn_count_7d"] = random.Next(0, 20).ToString(CultureInfo.InvariantCulture), ["avg_amount_30d"] = i % 9 == 0 ? "" : "55.5",
                ["account_age_days"] = random.Next(1, 3000).ToString(CultureInfo.InvariantCulture), ["is_verified"] = (i % 2).ToString(CultureInfo.InvariantCulture),
                ["store_chargeback_rate_90d"] = "0.01", ["store_category"] = (i % 4).ToString(CultureInfo.InvariantCulture),
            };
            edit?.Invoke(i + 2, cells);
            lines.Add(string.Join(",", kept.Select(c => cells[c])));
        }

        var file = new FileInfo(Path.Combine(dir.FullName, "train.csv"));
        File.WriteAllLines(file.FullName, lines);
        return file;
    }
}
