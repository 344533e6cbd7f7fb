namespace DarkShip.Functions.Tests.Deploy;

/// <summary>
/// Tests that build OpenTelemetry providers run one at a time, never beside each other: providers in
/// one process share the <c>DarkShip</c> activity source, and a span one provider samples is recorded
/// for every provider listening (in production there is one provider per process).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryProvidersCollection
{
    public const string Name = "OpenTelemetry providers";
}
