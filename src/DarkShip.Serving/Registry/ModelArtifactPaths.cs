using DarkShip.Serving.Models;

namespace DarkShip.Serving.Registry;

/// <summary>
/// Where a version's files live in the artifact store: <c>{model}/{version}/model.json</c> (<c>model.zip</c> for
/// ML.NET, <c>model.onnx</c> for ONNX) and <c>manifest.json</c>. Loaders read the paths the registry row holds.
/// </summary>
public static class ModelArtifactPaths
{
    /// <summary>Where a version's model file goes, named for its format.</summary>
    public static string Model(string model, string version, ModelFormat format = ModelFormat.XGBoost) => format switch
    {
        ModelFormat.MLNet => $"{model}/{version}/model.zip",
        ModelFormat.Onnx => $"{model}/{version}/model.onnx",
        _ => $"{model}/{version}/model.json",
    };

    /// <summary>Where a version's manifest goes.</summary>
    public static string Manifest(string model, string version) => $"{model}/{version}/manifest.json";
}
