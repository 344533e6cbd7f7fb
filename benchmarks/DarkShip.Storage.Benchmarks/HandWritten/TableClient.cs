// The hand-written Table client DarkShip used until Azure.Data.Tables was served (commit 8970bfb),
// kept here only so tables_side_by_side.sh can measure it beside the SDK in the same run.
using DarkShip.Storage;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace HandWritten;

/// <summary>
/// A client for one table over Table Storage's REST API on Azure.Core's pipeline: point reads,
/// streamed queries, conditional writes and entity-group transactions. Thread-safe; create one per
/// table and keep it. Failures other than the expected outcomes each method documents throw
/// <see cref="RequestFailedException"/> with the service's error code.
/// </summary>
public sealed partial class TableClient
{
    /// <summary>Most actions one entity-group transaction may hold.</summary>
    public const int MaxTransactionActions = 100;

    private const string JsonMinimalMetadata = "application/json;odata=minimalmetadata";

    private readonly HttpPipeline pipeline;
    private readonly Uri endpoint;
    private readonly TimeSpan callTimeout;

    /// <summary>A client for <paramref name="tableName"/> in the account <paramref name="endpoints"/> names.</summary>
    /// <param name="endpoints">The account, from app settings (<see cref="StorageEndpoints.FromSettings"/>).</param>
    /// <param name="tableName">The table.</param>
    /// <param name="credential">Required for identity-based access; ignored for connection strings.</param>
    /// <param name="options">Retries, timeouts and logging.</param>
    public TableClient(StorageEndpoints endpoints, string tableName, TokenCredential? credential = null, StorageClientOptions? options = null)
        : this(StoragePipeline.Build(StorageService.Table, endpoints, credential, options ??= new StorageClientOptions()), endpoints.TableEndpoint, tableName, options)
    {
    }

    internal TableClient(HttpPipeline pipeline, Uri endpoint, string tableName, StorageClientOptions options)
    {
        TableKeys.ValidateTableName(tableName, nameof(tableName));
        this.pipeline = pipeline;
        this.endpoint = new Uri(endpoint.ToString().TrimEnd('/'));
        Name = tableName;
        callTimeout = options.CallTimeout;
    }

    /// <summary>The table's name.</summary>
    public string Name { get; }

    /// <summary>Creates the table unless it exists; returns whether it was created.</summary>
    public async Task<bool> CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        using var message = Message(RequestMethod.Post, "Tables");
        message.Request.Headers.SetValue("Prefer", "return-no-content");
        message.Request.Content = RequestContent.Create(Encoding.UTF8.GetBytes($$"""{"TableName":"{{Name}}"}"""));
        message.Request.Headers.SetValue("Content-Type", "application/json");
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            201 or 204 => true,
            409 => false,
            _ => throw StorageErrors.Exception(response),
        };
    }

    /// <summary>Reads one entity, or <see langword="null"/> when there is none.</summary>
    /// <param name="partitionKey">Its partition key.</param>
    /// <param name="rowKey">Its row key.</param>
    /// <param name="select">Properties to return (all when omitted).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    public async Task<TableEntity?> GetEntityAsync(string partitionKey, string rowKey, IEnumerable<string>? select = null, CancellationToken cancellationToken = default)
    {
        using var message = Message(RequestMethod.Get, TableKeys.EntityPath(Name, partitionKey, rowKey));
        AppendSelect(message.Request, select);
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (response.Status == 404)
        {
            return null;
        }

        EnsureSuccess(response);
        using var json = await JsonDocument.ParseAsync(response.ContentStream!, cancellationToken: cancellationToken).ConfigureAwait(false);
        return TableEntityJson.Read(json.RootElement, response.Headers.ETag?.ToString());
    }

    /// <summary>Every entity matching <paramref name="filter"/>, fetched a page at a time as the caller reads.</summary>
    /// <param name="filter">An OData filter; build it with <see cref="ODataFilter.Create"/>. All entities when omitted.</param>
    /// <param name="select">Properties to return (all when omitted).</param>
    /// <param name="maxPerPage">Entities per round trip (the service's limit, 1000, when omitted).</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    public async IAsyncEnumerable<TableEntity> QueryAsync(
        string? filter = null,
        IEnumerable<string>? select = null,
        int? maxPerPage = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var page in QueryPagesAsync(filter, select, maxPerPage, null, cancellationToken).ConfigureAwait(false))
        {
            foreach (var entity in page.Entities)
            {
                yield return entity;
            }
        }
    }

    /// <summary>
    /// Like <see cref="QueryAsync"/>, but a table that does not exist (yet) reads as empty: for tables
    /// created on first write, read by callers that may come first.
    /// </summary>
    /// <param name="filter">An OData filter; build it with <see cref="ODataFilter.Create"/>.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    public async IAsyncEnumerable<TableEntity> QueryIfExistsAsync(string filter, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var rows = QueryAsync(filter, cancellationToken: cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                try
                {
                    if (!await rows.MoveNextAsync().ConfigureAwait(false))
                    {
                        yield break;
                    }
                }
                catch (Azure.RequestFailedException ex) when (ex.Status == 404)
                {
                    yield break; // no table yet: nothing stored
                }

                yield return rows.Current;
            }
        }
        finally
        {
            await rows.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The pages of a query, each with the token that resumes after it.</summary>
    /// <param name="filter">An OData filter; build it with <see cref="ODataFilter.Create"/>.</param>
    /// <param name="select">Properties to return (all when omitted).</param>
    /// <param name="maxPerPage">Entities per page, 1 to 1000 (1000 when omitted).</param>
    /// <param name="continuationToken">Where to resume: a page's <see cref="TablePage.ContinuationToken"/>.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    public async IAsyncEnumerable<TablePage> QueryPagesAsync(
        string? filter = null,
        IEnumerable<string>? select = null,
        int? maxPerPage = null,
        string? continuationToken = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (maxPerPage is < 1 or > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(maxPerPage), maxPerPage, "A page holds 1 to 1000 entities.");
        }

        var selected = select?.ToArray();
        var token = continuationToken;
        do
        {
            using var message = Message(RequestMethod.Get, Name + "()");
            if (filter is not null)
            {
                message.Request.Uri.AppendQuery("$filter", filter);
            }

            AppendSelect(message.Request, selected);
            if (maxPerPage is { } top)
            {
                message.Request.Uri.AppendQuery("$top", top.ToString(CultureInfo.InvariantCulture));
            }

            if (token is not null)
            {
                var (nextPartition, nextRow) = SplitToken(token);
                message.Request.Uri.AppendQuery("NextPartitionKey", nextPartition);
                if (nextRow is not null)
                {
                    message.Request.Uri.AppendQuery("NextRowKey", nextRow);
                }
            }

            var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
            EnsureSuccess(response);
            var entities = new List<TableEntity>();
            using (var json = await JsonDocument.ParseAsync(response.ContentStream!, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                foreach (var item in json.RootElement.GetProperty("value").EnumerateArray())
                {
                    entities.Add(TableEntityJson.Read(item));
                }
            }

            token = response.Headers.TryGetValue("x-ms-continuation-NextPartitionKey", out var partition)
                ? JoinToken(partition, response.Headers.TryGetValue("x-ms-continuation-NextRowKey", out var row) ? row : null)
                : null;
            yield return new TablePage(entities, token);
        }
        while (token is not null);
    }

    /// <summary>Inserts <paramref name="entity"/>; <see cref="TableWriteStatus.AlreadyExists"/> if its keys are taken.</summary>
    public async Task<TableWriteResult> AddEntityAsync(TableEntity entity, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entity);
        using var message = Message(RequestMethod.Post, Name);
        SetBody(message.Request, entity);
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        return WriteResult(response, entity);
    }

    /// <summary>Inserts <paramref name="entity"/>, or merges it into (or replaces) the one with its keys. Unconditional.</summary>
    public async Task<ETag> UpsertEntityAsync(TableEntity entity, TableUpdateMode mode = TableUpdateMode.Merge, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entity);
        using var message = Message(mode == TableUpdateMode.Merge ? Merge : RequestMethod.Put, TableKeys.EntityPath(Name, entity.PartitionKey, entity.RowKey));
        SetBody(message.Request, entity);
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        var result = WriteResult(response, entity);
        return result.Succeeded ? result.ETag : throw StorageErrors.Exception(response);
    }

    /// <summary>
    /// Writes <paramref name="entity"/> over the existing one if it is still at <paramref name="ifMatch"/>
    /// (<see cref="ETag.All"/>: whatever its version). Returns <see cref="TableWriteStatus.PreconditionFailed"/>
    /// when someone else wrote first, <see cref="TableWriteStatus.NotFound"/> when there is no entity.
    /// </summary>
    public async Task<TableWriteResult> UpdateEntityAsync(TableEntity entity, ETag ifMatch, TableUpdateMode mode = TableUpdateMode.Merge, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entity);
        using var message = Message(mode == TableUpdateMode.Merge ? Merge : RequestMethod.Put, TableKeys.EntityPath(Name, entity.PartitionKey, entity.RowKey));
        message.Request.Headers.SetValue("If-Match", IfMatch(ifMatch));
        SetBody(message.Request, entity);
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        return WriteResult(response, entity);
    }

    /// <summary>Deletes an entity if it is at <paramref name="ifMatch"/> (default: whatever its version).</summary>
    public async Task<TableWriteResult> DeleteEntityAsync(string partitionKey, string rowKey, ETag ifMatch = default, CancellationToken cancellationToken = default)
    {
        using var message = Message(RequestMethod.Delete, TableKeys.EntityPath(Name, partitionKey, rowKey));
        message.Request.Headers.SetValue("If-Match", IfMatch(ifMatch));
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        return WriteResult(response, null);
    }

    /// <summary>
    /// Applies up to <see cref="MaxTransactionActions"/> actions on one partition all together or not
    /// at all. A failed action (an insert whose keys are taken, a stale ETag…) is an outcome: the
    /// result says which and why, and nothing was written.
    /// </summary>
    public async Task<TableTransactionResult> SubmitTransactionAsync(IReadOnlyList<TableTransactionAction> actions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(actions);
        if (actions.Count is 0 or > MaxTransactionActions)
        {
            throw new ArgumentException($"A transaction holds 1 to {MaxTransactionActions} actions; this one has {actions.Count}.", nameof(actions));
        }

        var partition = actions[0].Entity.PartitionKey;
        var rows = new HashSet<string>(StringComparer.Ordinal);
        foreach (var action in actions)
        {
            if (action.Entity.PartitionKey != partition)
            {
                throw new ArgumentException($"A transaction stays in one partition: '{partition}' and '{action.Entity.PartitionKey}' differ.", nameof(actions));
            }

            if (!rows.Add(action.Entity.RowKey))
            {
                throw new ArgumentException($"A transaction may touch row '{action.Entity.RowKey}' only once.", nameof(actions));
            }
        }

        var batch = "batch_" + Guid.NewGuid().ToString("N");
        var changeset = "changeset_" + Guid.NewGuid().ToString("N");
        using var message = Message(RequestMethod.Post, "$batch");
        message.Request.Headers.SetValue("Content-Type", $"multipart/mixed; boundary={batch}");
        message.Request.Content = RequestContent.Create(TransactionBody(actions, batch, changeset));
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (response.Status != 202)
        {
            throw StorageErrors.Exception(response);
        }

        return ReadTransactionResponse(response.Content.ToString());
    }

    private byte[] TransactionBody(IReadOnlyList<TableTransactionAction> actions, string batch, string changeset)
    {
        var body = new StringBuilder()
            .Append("--").Append(batch).Append("\r\n")
            .Append("Content-Type: multipart/mixed; boundary=").Append(changeset).Append("\r\n\r\n");
        for (var i = 0; i < actions.Count; i++)
        {
            var action = actions[i];
            var (method, path) = action.Kind switch
            {
                TableActionKind.Add => ("POST", Name),
                TableActionKind.UpsertMerge or TableActionKind.UpdateMerge => ("MERGE", TableKeys.EntityPath(Name, action.Entity.PartitionKey, action.Entity.RowKey)),
                TableActionKind.UpsertReplace or TableActionKind.UpdateReplace => ("PUT", TableKeys.EntityPath(Name, action.Entity.PartitionKey, action.Entity.RowKey)),
                TableActionKind.Delete => ("DELETE", TableKeys.EntityPath(Name, action.Entity.PartitionKey, action.Entity.RowKey)),
                _ => throw new ArgumentOutOfRangeException(nameof(actions), action.Kind, "unknown action"),
            };

            body.Append("--").Append(changeset).Append("\r\n")
                .Append("Content-Type: application/http\r\n")
                .Append("Content-Transfer-Encoding: binary\r\n")
                .Append("Content-ID: ").Append(i + 1).Append("\r\n\r\n")
                .Append(method).Append(' ').Append(endpoint).Append('/').Append(path).Append(" HTTP/1.1\r\n")
                .Append("Accept: ").Append(JsonMinimalMetadata).Append("\r\n")
                .Append("DataServiceVersion: 3.0\r\n");
            if (action.Kind is TableActionKind.UpdateMerge or TableActionKind.UpdateReplace or TableActionKind.Delete)
            {
                body.Append("If-Match: ").Append(IfMatch(action.IfMatch)).Append("\r\n");
            }

            if (action.Kind == TableActionKind.Delete)
            {
                body.Append("\r\n");
                continue;
            }

            body.Append("Content-Type: application/json\r\n")
                .Append("Prefer: return-no-content\r\n\r\n")
                .Append(Encoding.UTF8.GetString(TableEntityJson.Write(action.Entity))).Append("\r\n");
        }

        body.Append("--").Append(changeset).Append("--\r\n")
            .Append("--").Append(batch).Append("--\r\n");
        return Encoding.UTF8.GetBytes(body.ToString());
    }

    internal static TableTransactionResult ReadTransactionResponse(string body)
    {
        var statuses = new List<int>();
        var etags = new List<ETag>();
        string? errorCode = null, errorMessage = null;
        foreach (var raw in body.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (StatusLine().Match(line) is { Success: true } status)
            {
                statuses.Add(int.Parse(status.Groups[1].Value, CultureInfo.InvariantCulture));
                etags.Add(default);
            }
            else if (line.StartsWith("ETag:", StringComparison.OrdinalIgnoreCase) && etags.Count > 0)
            {
                etags[^1] = new ETag(line["ETag:".Length..].Trim());
            }
            else if (line.StartsWith('{') && line.Contains("odata.error", StringComparison.Ordinal))
            {
                using var json = JsonDocument.Parse(line);
                var error = json.RootElement.GetProperty("odata.error");
                errorCode = error.TryGetProperty("code", out var c) ? c.GetString() : null;
                errorMessage = error.TryGetProperty("message", out var m) && m.TryGetProperty("value", out var v) ? v.GetString() : null;
            }
        }

        var failed = statuses.FindIndex(s => s >= 400);
        if (statuses.Count == 0)
        {
            throw new InvalidDataException("The transaction response holds no operation results.");
        }

        if (failed < 0)
        {
            return new TableTransactionResult(true, etags, null, 0, null, null);
        }

        // The service answers a failed changeset with one response; its message starts with the action's index.
        int? index = errorMessage is not null && FailedIndex().Match(errorMessage) is { Success: true } m2
            ? int.Parse(m2.Groups[1].Value, CultureInfo.InvariantCulture)
            : null;
        return new TableTransactionResult(false, [], index, statuses[failed], errorCode, errorMessage);
    }

    private static readonly RequestMethod Merge = new("MERGE");

    private HttpMessage Message(RequestMethod method, string path)
    {
        var message = pipeline.CreateMessage();
        var request = message.Request;
        request.Method = method;
        request.Uri.Reset(endpoint);
        request.Uri.AppendPath("/" + path, escape: false);
        request.Headers.SetValue("Accept", JsonMinimalMetadata);
        request.Headers.SetValue("DataServiceVersion", "3.0");
        return message;
    }

    private static void SetBody(Request request, TableEntity entity)
    {
        request.Headers.SetValue("Content-Type", "application/json");
        request.Headers.SetValue("Prefer", "return-no-content");
        request.Content = RequestContent.Create(TableEntityJson.Write(entity));
    }

    // The keys are always selected, so every entity read can be written back or addressed.
    private static void AppendSelect(Request request, IEnumerable<string>? select)
    {
        if (select is not null && select.Any())
        {
            request.Uri.AppendQuery("$select", string.Join(',', select.Concat(["PartitionKey", "RowKey"]).Distinct(StringComparer.Ordinal)));
        }
    }

    private Task<Response> SendAsync(HttpMessage message, CancellationToken cancellationToken) =>
        pipeline.SendAsync(message, callTimeout, $"Table '{Name}'", cancellationToken);

    private static TableWriteResult WriteResult(Response response, TableEntity? entity)
    {
        var status = response.Status switch
        {
            >= 200 and < 300 => TableWriteStatus.Written,
            409 => TableWriteStatus.AlreadyExists,
            412 => TableWriteStatus.PreconditionFailed,
            404 => TableWriteStatus.NotFound,
            _ => throw StorageErrors.Exception(response),
        };
        var etag = status == TableWriteStatus.Written && response.Headers.ETag is { } e ? e : default;
        if (entity is not null && status == TableWriteStatus.Written)
        {
            entity.ETag = etag;
        }

        return new TableWriteResult(status, etag);
    }

    private static void EnsureSuccess(Response response)
    {
        if (response.Status is < 200 or >= 300)
        {
            throw StorageErrors.Exception(response);
        }
    }

    private static string IfMatch(ETag etag) => etag == default || etag == ETag.All ? "*" : etag.ToString();

    // Keys cannot hold control characters, so a newline separates the two halves unambiguously.
    private static string JoinToken(string partition, string? row) => row is null ? partition : partition + "\n" + row;

    private static (string Partition, string? Row) SplitToken(string token)
    {
        var at = token.IndexOf('\n', StringComparison.Ordinal);
        return at < 0 ? (token, null) : (token[..at], token[(at + 1)..]);
    }

    [GeneratedRegex(@"^HTTP/1\.1 (\d{3})")]
    private static partial Regex StatusLine();

    [GeneratedRegex(@"^(\d+):")]
    private static partial Regex FailedIndex();
}
