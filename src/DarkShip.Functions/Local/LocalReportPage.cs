using System.Globalization;
using DarkShip.Functions.Hosting;
using DarkShip.Reports;
using DarkShip.Serving.Reports;

namespace DarkShip.Functions.Local;

/// <summary>
/// The local runner's live model report, <c>GET /report/{model}[?version=2&amp;hours=6]</c> (or <c>from</c>/<c>to</c>):
/// the page <c>darkship report</c> writes, made afresh on every request and reloading itself every
/// <see cref="RefreshSeconds"/>, so the demo's challenger is seen climbing the ladder as windows close.
/// Local only: it is not a function, and the function app on Azure has no such route.
/// </summary>
internal sealed class LocalReportPage(ModelReportBuilder builder, TimeProvider time)
{
    /// <summary>How often the page reloads itself.</summary>
    public const int RefreshSeconds = 30;

    /// <summary>Maps the route when the run names a storage account.</summary>
    public static void Map(WebApplication app, StorageAccount? account, IConfiguration configuration)
    {
        if (account is null)
        {
            return;
        }

        var page = new LocalReportPage(ModelReports.Builder(account, configuration, app.Services.GetRequiredService<TimeProvider>()), app.Services.GetRequiredService<TimeProvider>());
        app.MapGet("/report/{model}", (string model, HttpContext context) => page.RenderAsync(model, context.Request.Query, context.RequestAborted));
    }

    private async Task<IResult> RenderAsync(string model, IQueryCollection query, CancellationToken cancellationToken)
    {
        if (Range(query) is not { } range)
        {
            return Html(400, ReportPage.Problem("Empty range", "The report's range is empty or unreadable: give hours=N (N > 0), or from and to as ISO 8601 times with to after from."));
        }

        try
        {
            var report = await builder.BuildAsync(model, query.TryGetValue("version", out var v) ? v.ToString() : null, range, cancellationToken);
            return Html(200, ReportPage.Render(report, new ReportPageOptions(RefreshSeconds)));
        }
        catch (ReportInputException e)
        {
            return Html(404, ReportPage.Problem("No such model", e.Message));
        }
        catch (Exception e) when (StorageFailure.Is(e, cancellationToken))
        {
            return Html(503, ReportPage.Problem("Storage unavailable", $"The storage account could not be read ({e.Message}). The page tries again in {RefreshSeconds} s."), retryAfter: true);
        }
    }

    private ReportRange? Range(IQueryCollection query)
    {
        var to = time.GetUtcNow();
        if (query.TryGetValue("to", out var toText) && !DateTimeOffset.TryParse(toText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out to))
        {
            return null;
        }

        var from = to - ReportRange.DefaultSpan;
        if (query.TryGetValue("from", out var fromText) && !DateTimeOffset.TryParse(fromText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out from))
        {
            return null;
        }

        if (query.TryGetValue("hours", out var hoursText))
        {
            if (!double.TryParse(hoursText, NumberStyles.Float, CultureInfo.InvariantCulture, out var hours) || !(hours is > 0 and <= 24 * 366))
            {
                return null;
            }

            from = to - TimeSpan.FromHours(hours);
        }

        return ReportRange.Of(from, to);
    }

    private static IResult Html(int status, string page, bool retryAfter = false) => new HtmlResult(status, page, retryAfter);

    private sealed class HtmlResult(int status, string page, bool retryAfter) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = status;
            context.Response.ContentType = "text/html; charset=utf-8";
            context.Response.Headers.CacheControl = "no-store";
            if (retryAfter)
            {
                context.Response.Headers.RetryAfter = RefreshSeconds.ToString(CultureInfo.InvariantCulture);
            }

            return context.Response.WriteAsync(page, context.RequestAborted);
        }
    }
}
