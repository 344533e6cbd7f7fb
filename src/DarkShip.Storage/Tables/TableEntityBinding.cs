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
        SdkBinderCache() is ({ } cache, _) && cache.Contains(entityType) && cache[entityType] is { } entry ? !IsUnbuilt(entry) : null;

    [UnconditionalSuppressMessage("Trimming", "IL2077", Justification = "No constructor is run; the entry's type is in Azure.Data.Tables, kept whole in the package (TrimmerRootAssembly).")]
    private static bool PutUnbuiltEntry()
    {
        if (typeof(TableEntity).Assembly.GetName().Version != VerifiedVersion || SdkBinderCache() is not ({ } cache, { } entryType))
        {
            return false;
        }

        try
        {
            // A query that raced this and built the real binder loses it to the unbuilt entry: the same to every TableEntity query.
            if (!cache.Contains(typeof(TableEntity)))
            {
                cache[typeof(TableEntity)] = RuntimeHelpers.GetUninitializedObject(entryType);
            }

            return true;
        }
        catch (Exception e) when (e is ArgumentException or MemberAccessException or NotSupportedException or InvalidCastException)
        {
            return false; // the storage clients work as the SDK made them, only the first query is slower
        }
    }

    /// <summary>The binder's <c>_members</c> array is set by every constructor: an entry without it was never built.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "Azure.Data.Tables is kept whole in the package (TrimmerRootAssembly); a member not found reads as built.")]
    private static bool IsUnbuilt(object entry) =>
        entry.GetType().GetField("_members", BindingFlags.Instance | BindingFlags.NonPublic) is { } members && members.GetValue(entry) is null;

    /// <summary>
    /// The SDK's cache of binders by entity type (<c>ConcurrentDictionary&lt;Type, BoundTypeInfo&gt; _cache</c> of
    /// <c>TablesTypeBinder.Shared</c>'s base class) and the type of its entries, or <see langword="null"/> when they are
    /// not where <see cref="VerifiedVersion"/> keeps them.
    /// </summary>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Azure.Data.Tables is kept whole in the package (TrimmerRootAssembly); a type not found leaves the SDK alone.")]
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "As above: its members are kept; one not found leaves the SDK alone.")]
    private static (IDictionary Cache, Type EntryType)? SdkBinderCache()
    {
        var binderType = typeof(TableEntity).Assembly.GetType("Azure.Data.Tables.TablesTypeBinder", throwOnError: false);
        var shared = binderType?.GetProperty("Shared", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)?.GetValue(null);
        var field = binderType?.BaseType?.GetField("_cache", BindingFlags.Instance | BindingFlags.NonPublic);
        if (shared is null || field is null || !field.FieldType.IsGenericType || field.FieldType.GetGenericTypeDefinition() != typeof(ConcurrentDictionary<,>)
            || field.FieldType.GetGenericArguments() is not [var key, var entryType] || key != typeof(Type))
        {
            return null;
        }

        return field.GetValue(shared) is IDictionary cache ? (cache, entryType) : null;
    }
}
