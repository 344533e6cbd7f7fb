using System.Diagnostics.Metrics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DarkShip.Functions.Definitions;
using DarkShip.Functions.Hosting;
using DarkShip.Serving.Telemetry;
using DarkShip.Storage.Adapters;
using Microsoft.Extensions.Logging;

namespace DarkShip.Functions.Tests.Deploy;

/// <summary>
/// The templates through the real Bicep compiler (<see cref="BicepCompiler"/>): they build, their
/// parameter files build, the linter with the stricter rules of <c>bicep/bicepconfig.json</c> finds
/// nothing, and the compiled ARM template is held against the code: what the code reads is set, what
/// it needs is granted and nothing broader, what it names exists, and no secret is exposed.
/// </summary>
public sealed partial class BicepTemplateTests
{
    [Fact]
    public void The_templates_build_and_lint_with_the_stricter_rules_without_an_error_or_a_warning()
    {
        Assert.Equal("", BicepCompiler.MainBuild.Errors.Trim()); // bicep exits 0 on warnings: they are on stderr
        Assert.Equal("2.0", (string?)BicepCompiler.MainTemplate["languageVersion"]);

        var parameterFiles = Directory.GetFiles(BicepCompiler.Folder, "*.bicepparam").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["main.dev.bicepparam", "main.prod.bicepparam"], parameterFiles);
        foreach (var file in parameterFiles)
        {
            var build = BicepCompiler.Run("build-params", file!, "--stdout");
            Assert.True(build.ExitCode == 0 && build.Errors.Trim().Length == 0, $"{build.Arguments}: {build.Errors}");
            var parameters = JsonNode.Parse((string)JsonNode.Parse(build.Output)!["parametersJson"]!)!["parameters"]!.AsObject();
            Assert.Equal(file!.Split('.')[1], (string?)parameters["environmentName"]!["value"]);
        }

        foreach (var file in parameterFiles.Prepend("main.bicep"))
        {
            var lint = BicepCompiler.Run("lint", file!, "--diagnostics-format", "sarif");
            var results = JsonNode.Parse(lint.Output)!["runs"]![0]!["results"]!.AsArray();
            Assert.True(lint.ExitCode == 0 && results.Count == 0, $"{lint.Arguments}: {results.ToJsonString()} {lint.Errors}");
        }

        // The stricter rules are on (they are off by default), so a clean lint means something.
        var rules = JsonNode.Parse(File.ReadAllText(Path.Combine(BicepCompiler.Folder, "bicepconfig.json")), documentOptions: new() { CommentHandling = JsonCommentHandling.Skip })!["analyzers"]!["core"]!["rules"]!.AsObject();
        foreach (var rule in new[] { "use-recent-api-versions", "use-user-defined-types", "use-secure-value-for-secure-inputs", "outputs-should-not-contain-secrets", "what-if-short-circuiting", "use-resource-symbol-reference", "no-hardcoded-env-urls" })
        {
            Assert.Equal("warning", (string?)rules[rule]?["level"]);
        }
    }

    [Fact]
    public void The_app_settings_are_exactly_what_the_code_and_the_function_json_files_read()
    {
        var settings = BicepCompiler.OfType(BicepCompiler.Module("functionapp"), "Microsoft.Web/sites/config").Single()["properties"]!.AsObject();
        var set = settings.Select(p => p.Key).ToHashSet(StringComparer.Ordinal);

        string[] identityStorage = [.. new[] { "accountName", "credential", "clientId" }.Select(s => $"{StorageAccount.Connection}__{s}")];
        string[] identityHub = [.. new[] { "fullyQualifiedNamespace", "credential", "clientId" }.Select(s => $"{FunctionCatalog.MirrorConnection}__{s}")];
        var read = new HashSet<string>(StringComparer.Ordinal)
        {
            AzureMonitorExport.ConnectionStringSetting,
            AzureMonitorExport.AuthenticationSetting,
            "Serving__AssignmentSalt",
        };
        read.UnionWith(RuntimeSettings.AppSettings.Keys);
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
        Assert.All(RuntimeSettings.AppSettings, s => Assert.Equal(s.Value, (string?)settings[s.Key]));
        Assert.Equal("managedidentity", (string?)settings["AzureWebJobsStorage__credential"]);
        Assert.Equal("managedidentity", (string?)settings["MirrorHub__credential"]);
        Assert.Contains("Authorization=AAD", (string?)settings[AzureMonitorExport.AuthenticationSetting], StringComparison.Ordinal);
    }

    [Fact]
    public void The_start_up_measurement_starts_the_package_with_the_runtime_settings_Azure_starts_it_with()
    {
        var script = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "tools", "measure-startup.sh"));

        Assert.All(RuntimeSettings.AppSettings, s => Assert.Contains($"export {s.Key}={s.Value}\n", script, StringComparison.Ordinal));
    }

    [Fact]
    public void Every_role_the_code_needs_is_assigned_and_nothing_broader()
    {
        var assignments = BicepCompiler.Resources(BicepCompiler.MainTemplate)
            .SelectMany(d => BicepCompiler.OfType(d["properties"]!["template"]!.AsObject(), "Microsoft.Authorization/roleAssignments"))
            .ToList();
        var roleIds = assignments.SelectMany(a => RoleGuid().Matches(a["properties"]!["roleDefinitionId"]!.ToJsonString()).Select(m => m.Value)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var variables = BicepCompiler.Resources(BicepCompiler.MainTemplate).Select(d => d["properties"]!["template"]!["variables"]?.ToJsonString() ?? "");
        roleIds.UnionWith(variables.SelectMany(v => RoleGuid().Matches(v).Select(m => m.Value)));

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
        Assert.Equal(6, assignments.Count);
        Assert.All(assignments, a => Assert.Equal("ServicePrincipal", (string?)a["properties"]!["principalType"]));
    }

    [Fact]
    public void No_key_or_secret_is_exposed_local_auth_is_off_and_the_connection_string_stays_secure()
    {
        var compiled = BicepCompiler.MainTemplate.ToJsonString();
        Assert.False(Secret().IsMatch(compiled), Secret().Match(compiled).Value);
        foreach (var (path, text) in Directory.EnumerateFiles(BicepCompiler.Folder, "*.bicepparam").Append(Path.Combine(TestPaths.RepoRoot, "azure.yaml")).Select(p => (p, File.ReadAllText(p))))
        {
            Assert.False(Secret().IsMatch(text), $"{path}: {Secret().Match(text).Value}");
        }

        var storage = BicepCompiler.OfType(BicepCompiler.Module("storage"), "Microsoft.Storage/storageAccounts").Single()["properties"]!;
        Assert.Equal((false, "TLS1_2", true), ((bool)storage["allowSharedKeyAccess"]!, (string?)storage["minimumTlsVersion"], (bool)storage["supportsHttpsTrafficOnly"]!));
        Assert.True((bool)BicepCompiler.OfType(BicepCompiler.Module("eventhubs"), "Microsoft.EventHub/namespaces").Single()["properties"]!["disableLocalAuth"]!);
        Assert.True((bool)BicepCompiler.OfType(BicepCompiler.Module("monitoring"), "Microsoft.Insights/components").Single()["properties"]!["DisableLocalAuth"]!);

        // The component's connection string leaves the monitoring module as a secure output and enters the app as a secure parameter: never in deployment history.
        Assert.Equal("securestring", (string?)BicepCompiler.Module("monitoring")["outputs"]!["connectionString"]!["type"]);
        Assert.Equal("securestring", (string?)BicepCompiler.Module("functionapp")["parameters"]!["applicationInsightsConnectionString"]!["type"]);
        Assert.DoesNotContain("connectionString", BicepCompiler.MainTemplate["outputs"]!.AsObject().Select(o => o.Key), StringComparer.OrdinalIgnoreCase);
    }

    [Fact]
    public void The_tables_and_containers_are_the_ones_the_adapters_use()
    {
        var variables = BicepCompiler.Module("storage")["variables"]!;
        var tables = variables["tableNames"]!.AsArray().Select(t => (string)t!);

        Assert.Equal(
            new[]
            {
                TableModelRegistry.TableName, TableModelEventLog.TableName, TablePredictionLog.TableName, TableAggregateStore.TableName,
                TableDeadLetters.TableName, TableOutcomeStore.OutcomesTable, TableOutcomeStore.LabelsTable, TableDriftStore.TableName, TableFeatureStore.SchemaTable,
            }.Order(StringComparer.Ordinal),
            tables.Order(StringComparer.Ordinal));
        Assert.Equal(BlobModelArtifactStore.ContainerName, (string?)variables["containerNames"]![0]);
    }

    [Fact]
    public void The_flex_app_runs_the_custom_handler_from_its_blob_container_with_its_identity()
    {
        var module = BicepCompiler.Module("functionapp");
        var app = BicepCompiler.OfType(module, "Microsoft.Web/sites").Single()["properties"]!;
        var plan = BicepCompiler.OfType(module, "Microsoft.Web/serverfarms").Single();

        Assert.Equal(("custom", "1.0"), ((string?)app["functionAppConfig"]!["runtime"]!["name"], (string?)app["functionAppConfig"]!["runtime"]!["version"]));
        Assert.Equal("UserAssignedIdentity", (string?)app["functionAppConfig"]!["deployment"]!["storage"]!["authentication"]!["type"]);
        Assert.Equal(("FC1", "FlexConsumption"), ((string?)plan["sku"]!["name"], (string?)plan["sku"]!["tier"]));
        Assert.NotNull(module["parameters"]!["alwaysReadyHttpInstances"]);
        Assert.NotNull(module["parameters"]!["instanceMemoryMB"]);
        Assert.Equal("Avro", (string?)BicepCompiler.OfType(BicepCompiler.Module("eventhubs"), "Microsoft.EventHub/namespaces/eventhubs").Single()["properties"]!["captureDescription"]!["encoding"]);
    }

    [Fact]
    public void The_local_runners_Capture_writes_where_and_when_the_deployed_Capture_does()
    {
        var hubs = BicepCompiler.Module("eventhubs");
        var capture = BicepCompiler.OfType(hubs, "Microsoft.EventHub/namespaces/eventhubs").Single()["properties"]!["captureDescription"]!;
        var defaults = new DarkShip.Functions.Local.LocalCaptureOptions();

        Assert.Equal("[parameters('captureIntervalSeconds')]", (string?)capture["intervalInSeconds"]);
        Assert.Equal(defaults.IntervalSeconds, (int)hubs["parameters"]!["captureIntervalSeconds"]!["defaultValue"]!);
        Assert.Equal(defaults.SizeLimitBytes, (long)capture["sizeLimitInBytes"]!);
        Assert.True((bool)capture["skipEmptyArchives"]!); // LocalCapture writes no file for an empty window
        Assert.Equal("{Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}", (string?)capture["destination"]!["properties"]!["archiveNameFormat"]);
        Assert.Equal("ns/mirror/3/2026/01/02/03/04/05.avro", new Storage.Capture.CapturePath("ns", "mirror").BlobName("3", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero)));
        Assert.Equal(defaults.Container, (string)BicepCompiler.Module("storage")["parameters"]!["captureContainerName"]!["defaultValue"]!);
        Assert.Equal(Storage.Capture.CapturePath.DefaultContainer, defaults.Container);
    }

    [Fact]
    public void The_reviews_template_defects_stay_fixed()
    {
        var main = BicepCompiler.MainTemplate;
        var parameters = main["parameters"]!;

        // Nested deployments are named per environment (two environments in one resource group).
        Assert.All(BicepCompiler.Resources(main), d => Assert.Contains("deploymentSuffix", (string?)d["name"], StringComparison.Ordinal));
        // azd's environment names are longer than 12 characters.
        Assert.Equal(64, (int)parameters["environmentName"]!["maxLength"]!);
        // Limits up front instead of a failure half-way through a deployment.
        Assert.Equal((1, 32), ((int)parameters["mirrorPartitions"]!["minValue"]!, (int)parameters["mirrorPartitions"]!["maxValue"]!));
        Assert.Equal(["Standard_LRS", "Standard_ZRS", "Standard_GRS", "Standard_RAGRS"], parameters["storageSku"]!["allowedValues"]!.AsArray().Select(v => (string)v!));
        Assert.Contains("fail(", BicepCompiler.Resources(main).Single(d => ((string?)d["name"])!.Contains("'functionapp-", StringComparison.Ordinal))["properties"]!["parameters"]!["alwaysReadyHttpInstances"]!.ToJsonString(), StringComparison.Ordinal);
        // The Event Hubs host name comes from the namespace (sovereign clouds have other suffixes).
        var hubs = BicepCompiler.Module("eventhubs").ToJsonString();
        Assert.DoesNotContain("servicebus.windows.net", hubs, StringComparison.Ordinal);
        Assert.Contains("serviceBusEndpoint", BicepCompiler.Module("eventhubs")["outputs"]!["fullyQualifiedNamespace"]!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Alerts_and_the_workbook_query_metrics_events_and_functions_that_exist_and_each_alert_links_its_runbook_section()
    {
        var instruments = typeof(DarkShipTelemetry).GetFields()
            .Where(f => typeof(Instrument).IsAssignableFrom(f.FieldType))
            .Select(f => ((Instrument)f.GetValue(null)!).Name)
            .ToHashSet(StringComparer.Ordinal);
        var runbook = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docs", "runbook.md"));
        var alerts = CompiledAlerts();
        var keys = alerts.Select(a => (string)a["key"]!).ToList();

        Assert.Equal(["drift-alert", "shadow-failures", "predict-errors", "predict-latency", "mirror-drops", "dead-letters", "automatic-rollback"], keys);
        var queries = string.Join("\n", CompiledQueries().Select(q => q.Query));
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
        Assert.Contains("\"ModelTransition\"", queries, StringComparison.Ordinal);
        Assert.Equal("ModelTransition", typeof(DarkShip.Serving.Ladder.ModelLadder).GetMethods(System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)
            .SelectMany(m => m.GetCustomAttributes(typeof(LoggerMessageAttribute), false).Cast<LoggerMessageAttribute>())
            .Single(a => a.EventId == DarkShip.Serving.Ladder.ModelLadder.TransitionEventId).EventName);

        foreach (var key in keys)
        {
            Assert.Matches($"(?m)^## .*\\{{#{key}\\}}$", runbook); // "## Drift above its alert threshold {#drift-alert}"
        }
    }

    [Fact]
    public void Every_alert_and_workbook_query_parses_against_the_application_insights_schema_and_each_alert_returns_what_its_rule_reads()
    {
        var queries = CompiledQueries();
        var checks = KqlChecker.Check(queries.Select(q => (q.Name, q.Query)));

        Assert.Equal(queries.Count, checks.Count);
        foreach (var check in checks)
        {
            Assert.True(check.Diagnostics.Count == 0, $"{check.Name}: {string.Join("; ", check.Diagnostics)}");
        }

        foreach (var alert in CompiledAlerts())
        {
            var columns = checks.Single(c => c.Name == "alert " + (string)alert["key"]!).Columns;
            Assert.Contains(columns["value"], new[] { "real", "long", "int", "decimal" }); // metricMeasureColumn: 'value'
            foreach (var dimension in alert["dimensions"]!.AsArray().Select(d => (string)d!))
            {
                Assert.Equal("string", columns.GetValueOrDefault(dimension)); // each split dimension is a text column of the result
            }
        }
    }

    [Fact]
    public void The_query_checker_finds_what_log_analytics_would_refuse()
    {
        var checks = KqlChecker.Check([
            ("bracket", "customMetrics | summarize psi = max(valueMax), last = arg_max(timestamp, name) by name"),
            ("column", "customMetrics | where nosuchcolumn > 0"),
            ("table", "customEvents | take 1"),
        ]);

        Assert.Equal(["KS228", "KS142", "KS204"], checks.Select(c => c.Diagnostics.First().Split(' ')[0]));
    }

    private static List<JsonObject> CompiledAlerts() => [.. BicepCompiler.Module("alerts")["variables"]!["alerts"]!.AsArray().Select(a => a!.AsObject())];

    private static List<(string Name, string Query)> CompiledQueries() =>
    [
        .. CompiledAlerts().Select(a => ("alert " + (string)a["key"]!, (string)a["query"]!)),
        .. BicepCompiler.Module("workbook")["variables"]!["panels"]!.AsArray().Select(p => ("workbook " + (string)p!["name"]!, (string)p["query"]!)),
    ];

    [GeneratedRegex("%([A-Za-z0-9_]+)%")]
    private static partial Regex SettingReference();

    [GeneratedRegex("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", RegexOptions.IgnoreCase)]
    private static partial Regex RoleGuid();

    [GeneratedRegex(@"listKeys|listConnectionStrings|AccountKey=|SharedAccessKey|primaryKey|secondaryKey|InstrumentationKey=|password", RegexOptions.IgnoreCase)]
    private static partial Regex Secret();

    [GeneratedRegex(@"""(darkship\.[a-z.]+)""")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"requests \| where name == ""([A-Za-z]+)""")]
    private static partial Regex RequestName();
}
