using DarkShip.Serving.Monitoring;
using DarkShip.Serving.Reports;

namespace DarkShip.Functions.Hosting;

/// <summary>Where a model report's figures come from: the storage account's stores, graded with the app's drift thresholds (<c>Drift__…</c>).</summary>
internal static class ModelReports
{
    public static ModelReportBuilder Builder(StorageAccount account, IConfiguration configuration, TimeProvider time) =>
        new(account.Registry(), account.EventLog(), account.Aggregates(), account.Artifacts(), account.Outcomes(),
            configuration.GetSection(DriftOptions.Section).Get<DriftOptions>() ?? new DriftOptions(), time);
}
