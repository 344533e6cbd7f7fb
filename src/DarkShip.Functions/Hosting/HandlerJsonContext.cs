using System.Text.Json;
using System.Text.Json.Serialization;
using DarkShip.Functions.Apis;
using DarkShip.Functions.Protocol;

namespace DarkShip.Functions.Hosting;

/// <summary>
/// Compile-time JSON metadata for every body the handler reads or writes, so no serializer is
/// built by reflection (and Reflection.Emit) while the host waits for the handler to get ready,
/// and the trimmed publish keeps what it needs. Reflection-based JSON is switched off in the
/// project, so a type missing here fails in the tests, not in production.
/// </summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(PredictRequest))]
[JsonSerializable(typeof(PredictBatchRequest))]
[JsonSerializable(typeof(PredictResponse))]
[JsonSerializable(typeof(PredictBatchResponse))]
[JsonSerializable(typeof(OutcomeRequest))]
[JsonSerializable(typeof(OutcomeBatchResponse))]
[JsonSerializable(typeof(Microsoft.AspNetCore.Http.HttpValidationProblemDetails))]
[JsonSerializable(typeof(Microsoft.AspNetCore.Mvc.ProblemDetails))]
[JsonSerializable(typeof(InvocationResponse))]
[JsonSerializable(typeof(Dictionary<string, object?>))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(bool))]
[JsonSerializable(typeof(double))]
internal sealed partial class HandlerJsonContext : JsonSerializerContext;
