using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using DarkShip.Functions.Definitions;
using DarkShip.Functions.Hosting;
using DarkShip.Serving.Telemetry;
using DarkShip.Storage.Adapters;
using Microsoft.Extensions.Logging;

namespace DarkShip.Functions.Tests.Deploy;

/// <summary>
/// No Bicep compiler can be installed here, so the templates are held against the code: what the
/// code reads is set, what it needs is granted and nothing broader, what it names exists, and no
/// secret appears anywhere.
/// </summary>
public sealed partial class BicepTemplateTests
{
    private static readonly string Bicep = Path.Combine(TestPaths.RepoRoot, "bicep");

    private static string Read(string relative) => File.ReadAllText(Path.Combine(Bicep, relative));

    [Fact]
    public void The_app_settings_are_exactly_what_the_code_and_the_function_json_files_read()
    {
        var template = Read("modules/functionapp.bicep");
        var block = template[template.IndexOf("name: 'appsettings'", StringComparison.Ordinal)..];
        block = block[..block.IndexOf("\n  }\n}", StringComparison.Ordinal)];
        var set = SettingName().Matches(block).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

        string[] identityStorage = [.. new[] { "accountName", "credential", "clientId" }.Select(s => $"{StorageAccount.Connection}__{s}")];
        string[] identityHub = [.. new[] { "fullyQualifiedNamespace", "credential", "clientId" }.Select(s => $"{FunctionCatalog.MirrorConnection}__{s}")];
        var read = new HashSet<string>(StringComparer.Ordinal)
        {
            ApplicationInsightsExporter.ConnectionStringSetting,
            ApplicationInsightsExporter.AuthenticationSetting,
            "Serving__AssignmentSalt",
        };
        read.UnionWith(identityStorage);
        read.UnionWith(identityHub);
        read.UnionWith(FunctionCatalog.SettingDefaults.Keys);
        foreach (var function in FunctionCatalog.All)
        {
            foreach (Match m in SettingReference().Matches(function.ToFunctionJson().ToJsonString()))
            {
                Assert.Contains(m.Groups[1].Value, read); // every %Setting% a function.json binds to is one the template sets
            }
        }

        Assert.Equal(read.Order(StringComparer.Ordinal), set.Order(StringComparer.Ordinal));
        Assert.Contains("AzureWebJobsStorage__credential: 'managedidentity'", block, StringComparison.Ordinal);
        Assert.Contains("MirrorHub__credential: 'managedidentity'", block, StringComparison.Ordinal);
        Assert.Contains("Authorization=AAD", block, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_role_the_code_needs_is_assigned_and_nothing_broader()
    {
        var roleIds = AllTemplates().SelectMany(t => RoleGuid().Matches(t.Text).Select(m => m.Value)).ToHashSet(StringComparer.OrdinalIgnoreCase);

        var needed = new Dictionary<string, string>
        {
            ["Storage Blob Data Owner (host state, model files)"] = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
            ["Storage Table Data Contributor (features, registry, logs)"] = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
            ["Azure Event Hubs Data Sender (the mirror)"] = "2b629674-e913-4c01-ae53-ef4638d8f975",
            ["Azure Event Hubs Data Receiver (ShadowScore)"] = "a638d3c7-ab3a-418d-83e6-5f17a39d4fde",
            ["Monitoring Metrics Publisher (telemetry with Entra)"] = "3913510d-42f4-4e42-8a64-420c390055eb",
            ["Storage Blob Data Contributor (Capture, its container only)"] = "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        };
        foreach (var (role, id) in needed)
        {
            Assert.True(roleIds.Contains(id), $"{role} is not assigned");
        }

        Assert.Equal(needed.Values.Order(StringComparer.Ordinal), roleIds.Order(StringComparer.Ordinal)); // no Owner, Contributor, Data Owner of the hub, …
    }

    [Fact]
    public void No_key_connection_string_or_secret_appears_and_local_auth_is_off()
    {
        foreach (var (path, text) in AllTemplates().Append((Path.Combine(TestPaths.RepoRoot, "azure.yaml"), File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "azure.yaml")))))
        {
            Assert.False(Secret().IsMatch(text), $"{path}: {Secret().Match(text).Value}");
        }

        Assert.Contains("allowSharedKeyAccess: false", Read("modules/storage.bicep"), StringComparison.Ordinal);
        Assert.Contains("minimumTlsVersion: 'TLS1_2'", Read("modules/storage.bicep"), StringComparison.Ordinal);
        Assert.Contains("supportsHttpsTrafficOnly: true", Read("modules/storage.bicep"), StringComparison.Ordinal);
        Assert.Contains("disableLocalAuth: true", Read("modules/eventhubs.bicep"), StringComparison.Ordinal);
        Assert.Contains("DisableLocalAuth: true", Read("modules/monitoring.bicep"), StringComparison.Ordinal);
    }

    [Fact]
    public void The_tables_and_containers_are_the_ones_the_adapters_use()
    {
        var storage = Read("modules/storage.bicep");
        var tables = QuotedList(storage, "var tableNames = [");

        Assert.Equal(
            new[]
            {
                TableModelRegistry.TableName, TableModelEventLog.TableName, TablePredictionLog.TableName, TableAggregateStore.TableName,
                TableDeadLetters.TableName, TableOutcomeStore.OutcomesTable, TableOutcomeStore.LabelsTable, TableDriftStore.TableName, TableFeatureStore.SchemaTable,
            }.Order(StringComparer.Ordinal),
            tables.Order(StringComparer.Ordinal));
        Assert.Contains($"'{BlobModelArtifactStore.ContainerName}'", QuotedList(storage, "var containerNames = [").Select(c => $"'{c}'"));
    }

    [Fact]
    public void The_flex_app_runs_the_custom_handler_from_its_blob_container_with_its_identity()
    {
        var app = Read("modules/functionapp.bicep");

        Assert.Contains("runtime: { name: 'custom', version: '1.0' }", app, StringComparison.Ordinal);
        Assert.Contains("type: 'UserAssignedIdentity'", app, StringComparison.Ordinal);
        Assert.Contains("sku: { name: 'FC1', tier: 'FlexConsumption' }", app, StringComparison.Ordinal);
        Assert.Contains("param alwaysReadyHttpInstances int", app, StringComparison.Ordinal);
        Assert.Contains("param instanceMemoryMB int", app, StringComparison.Ordinal);
        Assert.Contains("encoding: 'Avro'", Read("modules/eventhubs.bicep"), StringComparison.Ordinal);
        foreach (var environment in new[] { "dev", "prod" })
        {
            Assert.Contains("using './main.bicep'", Read($"main.{environment}.bicepparam"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Alerts_and_the_workbook_query_metrics_events_and_functions_that_exist_and_each_alert_links_its_runbook_section()
    {
        var alerts = Read("modules/alerts.bicep");
        var instruments = typeof(DarkShipTelemetry).GetFields()
            .Where(f => typeof(Instrument).IsAssignableFrom(f.FieldType))
            .Select(f => ((Instrument)f.GetValue(null)!).Name)
            .ToHashSet(StringComparer.Ordinal);
        var runbook = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docs", "runbook.md"));
        var keys = AlertKey().Matches(alerts).Select(m => m.Groups[1].Value).ToList();

        Assert.Equal(["drift-alert", "shadow-failures", "predict-errors", "predict-latency", "mirror-drops", "dead-letters", "automatic-rollback"], keys);
        var queries = alerts + Read("modules/workbook.bicep");
        Assert.NotEmpty(MetricName().Matches(queries));
        foreach (Match m in MetricName().Matches(queries))
        {
            Assert.Contains(m.Groups[1].Value, instruments);
        }

        Assert.NotEmpty(RequestName().Matches(queries));
        foreach (Match m in RequestName().Matches(queries))
        {
            Assert.Contains(m.Groups[1].Value, FunctionCatalog.All.Select(f => f.Name));
        }

        // The workbook's ladder reads the transition log event by the name the code gives it.
        Assert.Contains("\"ModelTransition\"", Read("modules/workbook.bicep"), StringComparison.Ordinal);
        Assert.Equal("ModelTransition", typeof(DarkShip.Serving.Ladder.ModelLadder).GetMethods(System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)
            .SelectMany(m => m.GetCustomAttributes(typeof(LoggerMessageAttribute), false).Cast<LoggerMessageAttribute>())
            .Single(a => a.EventId == DarkShip.Serving.Ladder.ModelLadder.TransitionEventId).EventName);

        foreach (var key in keys)
        {
            Assert.Matches($"(?m)^## .*\\{{#{key}\\}}$", runbook); // "## Drift above its alert threshold {#drift-alert}"
        }
    }

    private static IEnumerable<(string Path, string Text)> AllTemplates() =>
        Directory.EnumerateFiles(Bicep, "*", SearchOption.AllDirectories).Select(p => (p, File.ReadAllText(p)));

    private static List<string> QuotedList(string text, string start)
    {
        var from = text.IndexOf(start, StringComparison.Ordinal) + start.Length;
        var body = text[from..text.IndexOf(']', from)];
        return [.. Quoted().Matches(body).Select(m => m.Groups[1].Value)];
    }

    [GeneratedRegex(@"(?m)^\s{4}([A-Za-z_][A-Za-z0-9_]*):")]
    private static partial Regex SettingName();

    [GeneratedRegex("%([A-Za-z0-9_]+)%")]
    private static partial Regex SettingReference();

    [GeneratedRegex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", RegexOptions.IgnoreCase)]
    private static partial Regex RoleGuid();

    [GeneratedRegex(@"listKeys|listConnectionStrings|AccountKey=|SharedAccessKey|primaryKey|secondaryKey|InstrumentationKey=|password|@secure", RegexOptions.IgnoreCase)]
    private static partial Regex Secret();

    [GeneratedRegex("'([^']+)'")]
    private static partial Regex Quoted();

    [GeneratedRegex(@"(?m)^\s+key: '([a-z-]+)'")]
    private static partial Regex AlertKey();

    [GeneratedRegex(@"""(darkship\.[a-z.]+)""")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"requests \| where name == \\?""([A-Za-z]+)\\?""")]
    private static partial Regex RequestName();
}
