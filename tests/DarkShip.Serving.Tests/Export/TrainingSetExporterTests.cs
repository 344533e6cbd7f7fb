using System.Runtime.CompilerServices;
using DarkShip.Serving.Export;
using DarkShip.Serving.Mirror;

namespace DarkShip.Serving.Tests.Export;

/// <summary>The exporter's hour readers: several hours read at once, handed on in order, stopped with the export.</summary>
public sealed class TrainingSetExporterTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 10, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Hours_read_ahead_come_out_in_hour_and_key_order_with_only_the_version_asked_for()
    {
        var log = new SlowHours(rowsPerHour: 2500); // more than one hour's buffer
        var exporter = new TrainingSetExporter(log, new InMemoryOutcomeStore());

        var rows = await exporter.ReadAsync(new ExportRange("m", Start, Start.AddHours(6), "1", KeepUnlabelled: true), null).ToListAsync();

        Assert.Equal(6 * 2500, rows.Count);
        Assert.Equal(rows.Select(r => r.Row.RowKey).Order(StringComparer.Ordinal), rows.Select(r => r.Row.RowKey));
        Assert.All(rows, r => Assert.Equal("1", r.Row.Entry.Version));
        Assert.InRange(log.MostAtOnce, 2, TrainingSetExporter.HoursAhead); // the store's round trips overlapped, within the bound
    }

    [Fact]
    public async Task An_abandoned_export_stops_every_hour_reader_it_started()
    {
        var log = new SlowHours(rowsPerHour: 2500);
        var exporter = new TrainingSetExporter(log, new InMemoryOutcomeStore());

        await foreach (var row in exporter.ReadAsync(new ExportRange("m", Start, Start.AddHours(48), "1", KeepUnlabelled: true), null))
        {
            break; // the caller stops after one row: disposing the enumerator must stop the readers ahead
        }

        Assert.Equal(0, log.Running);
        Assert.InRange(log.Started, 1, TrainingSetExporter.HoursAhead);
    }

    /// <summary>An hour partition per call, its rows produced slowly enough that readers overlap; counts readers running.</summary>
    private sealed class SlowHours(int rowsPerHour) : IPredictionLogScanner
    {
        private int running;
        private int started;
        private int mostAtOnce;

        public int Running => Volatile.Read(ref running);

        public int Started => Volatile.Read(ref started);

        public int MostAtOnce => Volatile.Read(ref mostAtOnce);

        public async IAsyncEnumerable<LoggedRow> ReadHourAsync(string model, DateTimeOffset hour, string? after, string? version = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref started);
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref mostAtOnce, now);
            try
            {
                for (var i = 0; i < rowsPerHour; i++)
                {
                    if (i % 500 == 0)
                    {
                        await Task.Delay(5, cancellationToken);
                    }

                    var at = hour.AddSeconds(i);
                    var id = at.UtcTicks.ToString("D20", System.Globalization.CultureInfo.InvariantCulture);
                    foreach (var v in new[] { "1", "2" }.Where(v => version is null || v == version))
                    {
                        yield return new LoggedRow(id + "_" + v, new PredictionLogEntry(id, model, v, "champion", v == "1", at, null, new Dictionary<string, string>(), [], [0.5f], null, [], 1));
                    }
                }
            }
            finally
            {
                Interlocked.Decrement(ref running);
            }
        }

        private static void InterlockedMax(ref int target, int value)
        {
            for (var seen = Volatile.Read(ref target); value > seen; seen = Volatile.Read(ref target))
            {
                if (Interlocked.CompareExchange(ref target, value, seen) == seen)
                {
                    return;
                }
            }
        }
    }
}
