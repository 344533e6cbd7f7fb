using System.CommandLine;
using System.Text;
using DarkShip.Functions.Hosting;
using DarkShip.Reports;
using DarkShip.Serving.Reports;

namespace DarkShip.Functions.Cli;

/// <summary>
/// <c>darkship report &lt;model&gt; [--version V] [--from … --to …] --output fraud.html</c>: the model report as one
/// self-contained HTML file. Exit codes: 0 written, 1 the storage account failed, 2 bad input (an unknown model
/// or version, an empty range, an output that cannot be written).
/// </summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var settings = CliSettings.Option();
        var model = new Argument<string>("model") { Description = "The model's name." };
        var version = new Option<string?>("--version") { Description = "Only this challenger (with the champion)." };
        var from = new Option<DateTimeOffset?>("--from") { Description = "Start of the range, e.g. 2026-11-30T08:00 (UTC unless an offset is given; default: 24 hours before --to)." };
        var to = new Option<DateTimeOffset?>("--to") { Description = "End of the range, exclusive (default: now)." };
        var output = new Option<FileInfo>("--output") { Description = "The HTML file to write (default: <model>.html)." };
        var command = new Command("report", "A model report as one self-contained HTML page: the ladder, each challenger against the champion, outcomes, calibration and drift, with what it concludes.")
        {
            model, version, from, to, output, settings,
        };
        command.SetAction(async (r, ct) =>
        {
            var error = r.InvocationConfiguration.Error;
            var name = r.GetValue(model)!;
            var end = (r.GetValue(to) ?? TimeProvider.System.GetUtcNow()).ToUniversalTime();
            var start = (r.GetValue(from) ?? end - ReportRange.DefaultSpan).ToUniversalTime();
            if (ReportRange.Of(start, end) is not { } range)
            {
                await error.WriteLineAsync($"report: the range is empty: --to ({end:O}) must be after --from ({start:O}).");
                return 2;
            }

            var file = r.GetValue(output) ?? new FileInfo(name + ".html");
            if (await CliSettings.StorageOrReportAsync(r.GetValue(settings)!, "report", error) is not { } account)
            {
                return 2;
            }

            var builder = ModelReports.Builder(account, CliSettings.Load(r.GetValue(settings)!), TimeProvider.System);
            return await WriteAsync(builder, name, r.GetValue(version), range, file, r.InvocationConfiguration.Output, error, ct);
        });
        return command;
    }

    /// <summary>Builds the report and writes the page; the exit code.</summary>
    public static async Task<int> WriteAsync(ModelReportBuilder builder, string model, string? version, ReportRange range, FileInfo output, TextWriter progress, TextWriter error, CancellationToken cancellationToken)
    {
        ModelReport report;
        try
        {
            report = await builder.BuildAsync(model, version, range, cancellationToken);
        }
        catch (ReportInputException e)
        {
            await error.WriteLineAsync($"report: {e.Message}");
            return 2;
        }
        catch (Exception e) when (StorageFailure.Is(e, cancellationToken))
        {
            await error.WriteLineAsync($"report: the storage account could not be used: {e.Message}");
            return 1;
        }

        var page = ReportPage.Render(report);
        try
        {
            output.Directory?.Create();
            await File.WriteAllTextAsync(output.FullName, page, new UTF8Encoding(false), cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"report: {output.FullName} could not be written: {e.Message}");
            return 2;
        }

        await progress.WriteLineAsync($"report: wrote {output.FullName} ({page.Length / 1024:N0} KB){(report.IsEmpty ? "; nothing happened in this range" : "")}");
        foreach (var sentence in report.Conclusions)
        {
            await progress.WriteLineAsync("  " + sentence);
        }

        return 0;
    }
}
