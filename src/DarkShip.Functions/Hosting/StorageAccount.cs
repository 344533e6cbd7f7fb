using Azure.Data.Tables;
using Azure.Storage.Blobs;
using DarkShip.Serving.Registry;
using DarkShip.Storage;
using DarkShip.Storage.Adapters;

namespace DarkShip.Functions.Hosting;

/// <summary>
/// The storage account the app keeps everything in (features, registry, model files, model log),
/// read from the <c>AzureWebJobsStorage</c> connection as the host reads it: a connection string
/// (Azurite) or identity-based settings (<c>__accountName</c> or <c>__tableServiceUri</c> and
/// <c>__blobServiceUri</c>, <c>__credential</c>, <c>__clientId</c>). Every client comes from one
/// <see cref="StorageClients"/> (Azure.Data.Tables and Azure.Storage.Blobs).
/// </summary>
internal sealed class StorageAccount(StorageClients clients)
{
    /// <summary>The connection's name.</summary>
    public const string Connection = "AzureWebJobsStorage";

    public StorageEndpoints Endpoints => Clients.Endpoints;

    /// <summary>The SDK clients of the account.</summary>
    public StorageClients Clients { get; } = clients;

    /// <summary>The account the configuration names, or <see langword="null"/> when it names none.</summary>
    public static StorageAccount? TryFrom(IConfiguration configuration, ILoggerFactory? loggers = null)
    {
        string? Setting(string name) => configuration.Setting(name);
        if (Setting(Connection) is null && Setting(Connection + "__accountName") is null && Setting(Connection + "__tableServiceUri") is null)
        {
            return null;
        }

        var endpoints = StorageEndpoints.FromSettings(Setting, Connection);
        return new StorageAccount(new StorageClients(endpoints, StorageCredentials.For(endpoints, Setting(Connection + "__credential")), loggers));
    }

    /// <summary>The account the configuration names.</summary>
    /// <exception cref="MissingSettingException">It names none.</exception>
    public static StorageAccount From(IConfiguration configuration, ILoggerFactory? loggers = null) =>
        TryFrom(configuration, loggers) ?? throw new MissingSettingException(
            Connection, $"the storage account: a connection string (UseDevelopmentStorage=true for Azurite) or identity-based '{Connection}__accountName'");

    public TableClient Table(string name) => Clients.Table(name);

    public BlobContainerClient Container(string name) => Clients.Container(name);

    public TableFeatureStore FeatureStore() => new(Table);

    public TableModelRegistry Registry() => new(Table(TableModelRegistry.TableName));

    public BlobModelArtifactStore Artifacts() => new(Clients.LazyContainer(BlobModelArtifactStore.ContainerName));

    public TablePredictionLog PredictionLog() => new(Table(TablePredictionLog.TableName));

    public TableModelEventLog EventLog() => new(Table(TableModelEventLog.TableName));

    public TableAggregateStore Aggregates() => new(Table(TableAggregateStore.TableName));

    public TableDeadLetters DeadLetters() => new(Table(TableDeadLetters.TableName));

    public TableOutcomeStore Outcomes() => new(Table(TableOutcomeStore.OutcomesTable), Table(TableOutcomeStore.LabelsTable));

    public TableDriftStore Drift() => new(Table(TableDriftStore.TableName));

    /// <summary>Creates the registry and audit tables, the models container, the model log, the outcome tables and the monitoring tables, and returns the registry.</summary>
    public async Task<(IModelRegistry Registry, IModelArtifactStore Artifacts, IModelEventLog Events)> PrepareAsync(CancellationToken cancellationToken)
    {
        var registry = Registry();
        var artifacts = Artifacts();
        await registry.EnsureCreatedAsync(cancellationToken);
        await artifacts.EnsureCreatedAsync(cancellationToken);
        await PredictionLog().EnsureCreatedAsync(cancellationToken);
        await EventLog().EnsureCreatedAsync(cancellationToken);
        await Aggregates().EnsureCreatedAsync(cancellationToken);
        await DeadLetters().EnsureCreatedAsync(cancellationToken);
        await Outcomes().EnsureCreatedAsync(cancellationToken);
        await Drift().EnsureCreatedAsync(cancellationToken);
        return (registry, artifacts, EventLog());
    }
}

/// <summary>An app setting that is set but cannot be used: the start stops, naming it and what it must be.</summary>
internal sealed class InvalidSettingException(string setting, string value, string expected)
    : InvalidOperationException($"The app setting '{setting}' is '{value}': {expected}. The handler does not start with it.")
{
    /// <summary>The setting's name, as the host spells it.</summary>
    public string Setting { get; } = setting;
}

/// <summary>Settings the app cannot run without are missing; the message names each.</summary>
internal sealed class MissingSettingException : InvalidOperationException
{
    public MissingSettingException(string setting, string what)
        : this([new MissingSettingException.Missing(setting, what)])
    {
    }

    public MissingSettingException(IReadOnlyList<Missing> missing)
        : base(string.Join(" ", missing.Select(m => $"The app setting '{m.Setting}' is missing or empty: it names {m.What}.")) + " The handler does not start without it.")
    {
        Settings = [.. missing.Select(m => m.Setting)];
        Each = missing;
    }

    /// <summary>The settings' names, as the host spells them.</summary>
    public IReadOnlyList<string> Settings { get; }

    /// <summary>What is missing, one per setting.</summary>
    public IReadOnlyList<Missing> Each { get; }

    /// <summary>The first setting's name.</summary>
    public string Setting => Settings[0];

    /// <summary>One missing setting and what it names.</summary>
    public sealed record Missing(string Setting, string What);
}

internal static class ConfigurationSettings
{
    /// <summary>
    /// An app setting by its host name (<c>MirrorHub__fullyQualifiedNamespace</c>), whichever way it
    /// reached the configuration: as an environment variable (<c>__</c> becomes <c>:</c>) or verbatim.
    /// </summary>
    public static string? Setting(this IConfiguration configuration, string name) =>
        configuration[name.Replace("__", ":", StringComparison.Ordinal)] is { Length: > 0 } value ? value
        : configuration[name] is { Length: > 0 } verbatim ? verbatim : null;
}
