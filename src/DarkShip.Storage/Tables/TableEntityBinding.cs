using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using Azure.Data.Tables;

namespace DarkShip.Storage.Tables;

/// <summary>
/// Spares the process the reflection binder Azure.Data.Tables builds for <see cref="TableEntity"/> on the first
/// query, which no <see cref="TableEntity"/> query uses. <see cref="StorageClients"/> applies it once per process.
/// </summary>
/// <remarks>
/// <para>
/// In Azure.Data.Tables <see cref="VerifiedVersion"/>, every page of a query goes through
/// <c>DictionaryTableExtensions.ToTableEntityList&lt;T&gt;</c>, which first asks the SDK's shared
/// <c>TablesTypeBinder</c> for the binder of <c>T</c> (built on first use: every public property of <c>T</c> and of
/// <see cref="ITableEntity"/> bound through <c>MakeGenericType</c>, attribute reads and two compiled expressions)
/// and then hands it to <c>ToTableEntity&lt;T&gt;</c>, which for a <c>T</c> that is a dictionary, as
/// <see cref="TableEntity"/> is, never looks at it and copies the response's properties instead. Point reads
/// (<c>GetEntity</c>) and writes of a dictionary skip the binder too. Building it for <see cref="TableEntity"/>
/// was the largest single cost of the handler's cold start: ~30 ms before the first registry read could answer
/// (docs/performance.md, "Handler start-up").
/// </para>
/// <para>
/// DarkShip reads and writes <see cref="TableEntity"/> only. So the SDK's binder cache gets, under
/// <see cref="TableEntity"/>, an entry that was never built: a query then finds it and copies the dictionary as
/// before. Were the SDK ever to bind a <see cref="TableEntity"/> through it, it would throw
/// (<see cref="NullReferenceException"/>) rather than return entities without their properties. Any other
/// version of the SDK is left alone (its queries cost what they always did) and <c>TableEntityBindingTests</c>
/// fails, asking for the SDK's code to be read again before <see cref="VerifiedVersion"/> is raised.
/// </para>
/// </remarks>
public static class TableEntityBinding
{
    /// <summary>The Azure.Data.Tables assembly version whose query code was read (package 12.13.0).</summary>
    public static readonly Version VerifiedVersion = new(12, 13, 0, 0);

    private const string BinderTypeName = "Azure.Data.Tables.TablesTypeBinder";
    private static readonly Lazy<bool> Skipped = new(PutUnbuiltEntry);

    /// <summary>
    /// Puts the unbuilt entry in the SDK's binder cache, once per process; <see langword="false"/> when the SDK is not
    /// <see cref="VerifiedVersion"/> or its internals are not where that version keeps them (nothing is changed then).
    /// </summary>
    public static bool SkipUnusedBinder() => Skipped.Value;

    /// <summary>
    /// The SDK's cached binder for rows of <paramref name="entityType"/>: <see langword="true"/> built,
    /// <see langword="false"/> the unbuilt entry, <see langword="null"/> none (tests: what a query left there).
    /// </summary>
    public static bool? IsBuilt(Type entityType) =>
        BinderCache() is { } cache && cache.Contains(entityType) && cache[entityType] is { } entry ? !IsUnbuilt(entry) : null;

    [UnconditionalSuppressMessage("Trimming", "IL2072", Justification = "No constructor is run; the entry's type is in Azure.Data.Tables, kept whole in the package (TrimmerRootAssembly).")]
    private static bool PutUnbuiltEntry()
    {
        if (typeof(TableEntity).Assembly.GetName().Version != VerifiedVersion || BinderCache() is not { } cache || EntryType() is not { } entryType)
        {
            return false;
        }

        // A query that raced this and built the real binder loses it to the unbuilt entry: the same to every TableEntity query.
        if (!cache.Contains(typeof(TableEntity)))
        {
            cache[typeof(TableEntity)] = RuntimeHelpers.GetUninitializedObject(entryType);
        }

        return true;
    }

    /// <summary>The binder's <c>_members</c> array is set by every constructor: an entry without it was never built.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "Azure.Data.Tables is kept whole in the package (TrimmerRootAssembly); a member not found reads as built.")]
    private static bool IsUnbuilt(object entry) =>
        entry.GetType().GetField("_members", BindingFlags.Instance | BindingFlags.NonPublic) is { } members && members.GetValue(entry) is null;

    /// <summary>The SDK's cache of binders by entity type, or <see langword="null"/> when it is not where <see cref="VerifiedVersion"/> keeps it.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Azure.Data.Tables is kept whole in the package (TrimmerRootAssembly); a type not found leaves the SDK alone.")]
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "As above: its members are kept; one not found leaves the SDK alone.")]
    private static IDictionary? BinderCache()
    {
        var binderType = typeof(TableEntity).Assembly.GetType(BinderTypeName, throwOnError: false);
        var shared = binderType?.GetProperty("Shared", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)?.GetValue(null);
        var field = CacheField(binderType);
        return shared is null || field is null ? null : field.GetValue(shared) as IDictionary;
    }

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "See BinderCache.")]
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "See BinderCache.")]
    private static Type? EntryType() =>
        CacheField(typeof(TableEntity).Assembly.GetType(BinderTypeName, throwOnError: false))?.FieldType.GetGenericArguments()[1];

    /// <summary>The <c>ConcurrentDictionary&lt;Type, BoundTypeInfo&gt; _cache</c> field of the binder's base class.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "See BinderCache.")]
    private static FieldInfo? CacheField(Type? binderType) =>
        binderType?.BaseType?.GetField("_cache", BindingFlags.Instance | BindingFlags.NonPublic) is { } field
            && field.FieldType.IsGenericType
            && field.FieldType.GetGenericTypeDefinition() == typeof(ConcurrentDictionary<,>)
            && field.FieldType.GetGenericArguments()[0] == typeof(Type)
            ? field
            : null;
}
