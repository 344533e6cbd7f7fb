using System.Text.Json;
using DarkShip.Functions.Cli;
using DarkShip.Serving.Export;
using DarkShip.Serving.Mirror;
using DarkShip.Serving.Outcomes;
using DarkShip.Serving.Predictions;
using DarkShip.Storage.Adapters;
using DarkShip.Storage.Tables;
using Microsoft.Extensions.Time.Testing;

namespace DarkShip.Functions.IntegrationTests;

/// <summary>Training-set export from the model log and the outcome tables on Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class ExportTests(AzuriteFixture azurite) : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 10, 0, 0, TimeSpan.Zero);
    private readonly DirectoryInfo folder = Directory.CreateTempSubdirectory("darkship-export");
    private readonly string model = "m" + Guid.NewGuid().ToString("N")[..10];

    public void Dispose() => folder.Delete(recursive: true);

    [Fact]
    public async Task The_export_holds_the_features_as_served_byte_for_byte_with_labels_joined()
    {
        var (log, outcomes, ids) = await SeedAsync(rows: 300);
        var output = new FileInfo(Path.Combine(folder.FullName, "train.jsonl"));

        var code = await ExportCli.RunAsync(new TrainingSetExporter(log, outcomes), new ExportRange(model, Start, Start.AddHours(3), "1", KeepUnlabelled: true), "jsonl", output, false, TextWriter.Null, CancellationToken.None);

        Assert.Equal(0, code);
        var lines = File.ReadAllLines(output.FullName);
        Assert.Equal(300, lines.Length); // version 1 only; version 2's rows left out
        var stored = await StoredFeaturesAsync();
        foreach (var line in lines)
        {
            using var row = JsonDocument.Parse(line);
            var id = row.RootElement.GetProperty("predictionId").GetString()!;
            Assert.Equal(stored[id], row.RootElement.GetProperty("features").GetRawText()); // the model log's own text, not a re-rendering
            Assert.Equal(ids.IndexOf(id) % 2 == 0 ? JsonValueKind.Number : JsonValueKind.Null, row.RootElement.GetProperty("label").ValueKind);
        }

        Assert.Equal(ids, lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("predictionId").GetString())); // in prediction-id (time) order
    }

    [Fact]
    public async Task An_interrupted_export_resumes_without_repeating_a_row_and_ends_as_an_uninterrupted_one()
    {
        var (log, outcomes, _) = await SeedAsync(rows: 1700);
        var range = new ExportRange(model, Start, Start.AddHours(3), "1", KeepUnlabelled: false);
        var whole = new FileInfo(Path.Combine(folder.FullName, "whole.csv"));
        var resumed = new FileInfo(Path.Combine(folder.FullName, "resumed.csv"));
        Assert.Equal(0, await ExportCli.RunAsync(new TrainingSetExporter(log, outcomes), range, "csv", whole, false, TextWriter.Null, CancellationToken.None));

        using var stop = new CancellationTokenSource();
        var interrupted = await ExportCli.RunAsync(new TrainingSetExporter(log, outcomes), range, "csv", resumed, false, new StopAtFirstCheckpoint(stop), stop.Token);
        Assert.Equal(1, interrupted);
        Assert.True(File.Exists(resumed.FullName + ".checkpoint"));
        File.AppendAllText(resumed.FullName, "a half-written line that the checkpoint does not cover");
        using var progress = new StringWriter();
        Assert.True(await ExportCli.RunAsync(new TrainingSetExporter(log, outcomes), range, "csv", resumed, false, progress, CancellationToken.None) == 0, progress.ToString());

        Assert.Contains("resuming after 500 rows", progress.ToString(), StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(whole.FullName), File.ReadAllBytes(resumed.FullName));
        Assert.False(File.Exists(resumed.FullName + ".checkpoint"));
        var lines = File.ReadAllLines(whole.FullName);
        Assert.Equal(1 + 850, lines.Length); // header + the labelled half
        Assert.Equal("prediction_id,model,version,arm,served,predicted_at,observed_at,label,score,amount,hour_of_day,segment,channel", lines[0]);
        Assert.Equal(lines.Length - 1, lines.Skip(1).Select(l => l.Split(',')[0]).Distinct().Count());
    }

    [Fact]
    public async Task An_existing_output_is_not_overwritten_without_asking()
    {
        var (log, outcomes, _) = await SeedAsync(rows: 4);
        var output = new FileInfo(Path.Combine(folder.FullName, "kept.csv"));
        File.WriteAllText(output.FullName, "precious");
        using var error = new StringWriter();

        var code = await ExportCli.RunAsync(new TrainingSetExporter(log, outcomes), new ExportRange(model, Start, Start.AddHours(1), null, true), "csv", output, false, error, CancellationToken.None);

        Assert.Equal(2, code);
        Assert.Equal("precious", File.ReadAllText(output.FullName));
        Assert.Contains("--overwrite", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_parquet_export_holds_the_csv_exports_values_typed_as_an_independent_reader_reads_them()
    {
        var (log, outcomes, _) = await SeedAsync(rows: 1300);
        var range = new ExportRange(model, Start, Start.AddHours(3), null, KeepUnlabelled: true);
        var csv = new FileInfo(Path.Combine(folder.FullName, "train.csv"));
        var parquet = new FileInfo(Path.Combine(folder.FullName, "train.parquet"));
        Assert.Equal(0, await ExportCli.RunAsync(new TrainingSetExporter(log, outcomes), range, "csv", csv, false, TextWriter.Null, CancellationToken.None));

        Assert.Equal(0, await ExportCli.RunAsync(new TrainingSetExporter(log, outcomes), range, "parquet", parquet, false, TextWriter.Null, CancellationToken.None,
            manifests: new ChannelIsACategory(), parquetRowGroupRows: 1000));

        var (types, rows) = ReadWithDuckDb(parquet);
        Assert.Equal("VARCHAR VARCHAR VARCHAR VARCHAR BOOLEAN TIMESTAMP WITH TIME ZONE TIMESTAMP WITH TIME ZONE DOUBLE FLOAT FLOAT FLOAT FLOAT VARCHAR", string.Join(" ", types));
        var lines = File.ReadAllLines(csv.FullName);
        Assert.Equal("prediction_id,model,version,arm,served,predicted_at,observed_at,label,score,amount,hour_of_day,segment,channel", lines[0]);
        Assert.Equal(lines.Length - 1, rows.Count);
        Assert.Equal(2600, rows.Count); // both versions, every row, in the CSV's order
        string[] channels = ["web", "app", "pos"];
        for (var i = 0; i < rows.Count; i++)
        {
            var expected = lines[i + 1].Split(',');
            var actual = rows[i];
            Assert.Equal<string>(expected[..5], [(string)actual[0]!, (string)actual[1]!, (string)actual[2]!, (string)actual[3]!, (bool)actual[4]! ? "true" : "false"]);
            Assert.Equal(Micros(expected[5]), ToUtc(actual[5]!)); // times to the microsecond, the finest Spark reads
            Assert.Equal(expected[6] == "" ? null : Micros(expected[6]), actual[6] is null ? (DateTimeOffset?)null : ToUtc(actual[6]!));
            Assert.Equal(expected[7] == "" ? null : double.Parse(expected[7], System.Globalization.CultureInfo.InvariantCulture), (double?)actual[7]);
            for (var c = 8; c < 12; c++)
            {
                Assert.Equal(expected[c] == "" ? null : float.Parse(expected[c], System.Globalization.CultureInfo.InvariantCulture), (float?)actual[c]); // the float itself, not a rounding
            }

            var code = expected[12] == "" ? -1 : int.Parse(expected[12], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(code is >= 0 and < 3 ? channels[code] : null, (string?)actual[12]); // code 3 is not a listed label: null, as it was served (missing)
        }

        Assert.Contains(rows, r => r[12] is null);
        Assert.Contains(rows, r => r[11] is null);
        Assert.Contains(rows, r => r[7] is null);
    }

    [Fact]
    public async Task An_interrupted_parquet_export_resumes_at_its_last_row_group_and_ends_as_an_uninterrupted_one()
    {
        var (log, outcomes, _) = await SeedAsync(rows: 1700);
        var range = new ExportRange(model, Start, Start.AddHours(3), "1", KeepUnlabelled: true);
        var whole = new FileInfo(Path.Combine(folder.FullName, "whole.parquet"));
        var resumed = new FileInfo(Path.Combine(folder.FullName, "resumed.parquet"));
        Assert.Equal(0, await ExportCli.RunAsync(new TrainingSetExporter(log, outcomes), range, "parquet", whole, false, TextWriter.Null, CancellationToken.None, parquetRowGroupRows: 500));

        using var stop = new CancellationTokenSource();
        Assert.Equal(1, await ExportCli.RunAsync(new TrainingSetExporter(log, outcomes), range, "parquet", resumed, false, new StopAtFirstCheckpoint(stop), stop.Token, parquetRowGroupRows: 500));
        Assert.True(File.Exists(resumed.FullName + ".checkpoint"));
        var (_, partial) = ReadWithDuckDb(resumed); // whole at every checkpoint: a reader can open it
        Assert.InRange(partial.Count, 500, 1699);
        File.AppendAllText(resumed.FullName, "bytes after the checkpoint");
        using var progress = new StringWriter();
        Assert.True(await ExportCli.RunAsync(new TrainingSetExporter(log, outcomes), range, "parquet", resumed, false, progress, CancellationToken.None, parquetRowGroupRows: 500) == 0, progress.ToString());

        Assert.Contains("resuming after ", progress.ToString(), StringComparison.Ordinal);
        var (_, expected) = ReadWithDuckDb(whole);
        var (_, actual) = ReadWithDuckDb(resumed);
        Assert.Equal(1700, expected.Count);
        Assert.Equal(expected.Select(r => string.Join("|", r)), actual.Select(r => string.Join("|", r)));
        Assert.False(File.Exists(resumed.FullName + ".checkpoint"));
    }

    /// <summary>A CSV time (100 ns ticks) cut to whole microseconds.</summary>
    private static DateTimeOffset Micros(string csv)
    {
        var at = DateTimeOffset.Parse(csv, System.Globalization.CultureInfo.InvariantCulture);
        return at.AddTicks(-(at.UtcTicks % 10));
    }

    private static DateTimeOffset ToUtc(object value) => value switch
    {
        DateTimeOffset o => o.ToUniversalTime(),
        DateTime d => new DateTimeOffset(DateTime.SpecifyKind(d, DateTimeKind.Utc)),
        _ => throw new InvalidCastException(value.GetType().Name),
    };

    /// <summary>Every row of a Parquet file in file order, read by DuckDB, with the column types DuckDB sees.</summary>
    private static (List<string> Types, List<object?[]> Rows) ReadWithDuckDb(FileInfo file)
    {
        using var connection = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SET TimeZone = 'UTC'; SELECT * FROM read_parquet('{file.FullName.Replace("'", "''", StringComparison.Ordinal)}')";
        using var reader = command.ExecuteReader();
        var types = new List<string>();
        using (var describe = connection.CreateCommand())
        {
            describe.CommandText = $"SELECT column_type FROM (DESCRIBE SELECT * FROM read_parquet('{file.FullName.Replace("'", "''", StringComparison.Ordinal)}'))";
            using var d = describe.ExecuteReader();
            while (d.Read())
            {
                types.Add(d.GetString(0));
            }
        }

        var rows = new List<object?[]>();
        while (reader.Read())
        {
            var values = new object?[reader.FieldCount];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(values);
        }

        return (types, rows);
    }

    /// <summary>The registry's manifests as far as the Parquet writer asks: <c>channel</c> is a category of three labels.</summary>
    private sealed class ChannelIsACategory : IServedManifests
    {
        private static readonly Serving.Manifests.ModelManifest Manifest = Serving.Manifests.ManifestReader.Parse("""
            { "name": "m", "output": "probability", "groups": {},
              "features": [ { "name": "amount" }, { "name": "hour_of_day" }, { "name": "segment" },
                            { "name": "channel", "type": "category", "categories": ["web", "app", "pos"] } ] }
            """u8);

        public ValueTask<Serving.Manifests.ModelManifest?> FindAsync(string model, string version, CancellationToken cancellationToken = default) => ValueTask.FromResult<Serving.Manifests.ModelManifest?>(Manifest);
    }

    /// <summary>
    /// <paramref name="rows"/> predictions over three hours, each logged for version 1 (served) and
    /// version 2 (shadow), with features including a missing one; every other one labelled.
    /// </summary>
    private async Task<(TablePredictionLog Log, TableOutcomeStore Outcomes, List<string> Ids)> SeedAsync(int rows)
    {
        var account = (await DemoSystem.SeedAsync(azurite)).Account;
        var log = account.PredictionLog();
        var outcomes = account.Outcomes();
        var time = new FakeTimeProvider(Start);
        var entries = new List<PredictionLogEntry>();
        var labels = new List<LabelledPrediction>();
        var ids = new List<string>();
        var random = new Random(3);
        for (var i = 0; i < rows; i++)
        {
            var id = PredictionId.New(time);
            ids.Add(id);
            KeyValuePair<string, float>[] features = [new("amount", (float)(random.NextDouble() * 1000)), new("hour_of_day", i % 24), new("segment", i % 7 == 0 ? float.NaN : 0.1f * (i % 3)), new("channel", i % 11 == 0 ? float.NaN : i % 4)];
            foreach (var (version, arm) in new[] { ("1", "champion"), ("2", "shadow") })
            {
                var entry = new PredictionLogEntry(id, model, version, arm, version == "1", time.GetUtcNow(), null, new Dictionary<string, string> { ["consumer"] = $"c{i}" },
                    features, [(float)random.NextDouble()], null, [], 1.5);
                entries.Add(entry);
                if (i % 2 == 0)
                {
                    labels.Add(new LabelledPrediction(new LoggedPrediction(id, model, version, arm, version == "1", entry.Timestamp, entry.Scores), i % 4 == 0 ? 1 : 0, entry.Timestamp.AddDays(9), null, null));
                }
            }

            time.Advance(TimeSpan.FromHours(3.0 / rows));
        }

        await log.WriteAsync(entries, CancellationToken.None);
        await outcomes.SaveLabelsAsync(labels);
        return (log, outcomes, ids);
    }

    private async Task<Dictionary<string, string>> StoredFeaturesAsync()
    {
        var table = azurite.Table(TablePredictionLog.TableName);
        var stored = new Dictionary<string, string>(StringComparer.Ordinal);
        await foreach (var e in table.QueryAsync<Azure.Data.Tables.TableEntity>(Azure.Data.Tables.TableClient.CreateQueryFilter($"Model eq {model} and Version eq {"1"}")))
        {
            stored[e.Get<string>("PredictionId")!] = e.Get<string>("Features")!;
        }

        return stored;
    }

    /// <summary>Cancels the export as soon as it reports its first checkpoint.</summary>
    private sealed class StopAtFirstCheckpoint(CancellationTokenSource stop) : StringWriter
    {
        public override Task WriteAsync(string? value)
        {
            if (value?.Contains("rows (", StringComparison.Ordinal) == true)
            {
                stop.Cancel();
            }

            return Task.CompletedTask;
        }
    }
}
