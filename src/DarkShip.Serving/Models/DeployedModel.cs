using DarkShip.Scoring;

namespace DarkShip.Serving.Models;

/// <summary>A model version that is live in some stage, compiled and ready to score.</summary>
/// <param name="Name">The model's name, e.g. <c>fraud</c>.</param>
/// <param name="Version">The registry's version label, e.g. <c>7</c>.</param>
/// <param name="Model">The compiled model.</param>
public sealed record DeployedModel(string Name, string Version, IModel Model);
