namespace DarkShip.Serving.Registry;

/// <summary>Where a version's files live in the artifact store: <c>{model}/{version}/model.json</c> and <c>manifest.json</c>.</summary>
public static class ModelArtifactPaths
{
    /// <summary>Where a version's model file goes.</summary>
    public static string Model(string model, string version) => $"{model}/{version}/model.json";

    /// <summary>Where a version's manifest goes.</summary>
    public static string Manifest(string model, string version) => $"{model}/{version}/manifest.json";
}
