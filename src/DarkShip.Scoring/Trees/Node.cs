using System.Runtime.InteropServices;

namespace DarkShip.Scoring.Trees;

/// <summary>
/// One split, 16 bytes, four to a cache line. Children are global node indices when
/// non-negative and <c>~leafIndex</c> when negative, so traversal is <c>while (node &gt;= 0)</c>.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly struct Node(int featureAndDefault, float threshold, int left, int right)
{
    /// <summary>Marks a node whose missing values go left (the sign bit of <see cref="FeatureAndDefault"/>).</summary>
    public const int DefaultLeftFlag = int.MinValue;

    /// <summary>The feature index, with <see cref="DefaultLeftFlag"/> set when missing values go left.</summary>
    public readonly int FeatureAndDefault = featureAndDefault;

    /// <summary>Rows with <c>value &lt; Threshold</c> go left, as in XGBoost.</summary>
    public readonly float Threshold = threshold;

    public readonly int Left = left;

    public readonly int Right = right;

    public int Feature => FeatureAndDefault & int.MaxValue;

    public bool DefaultLeft => FeatureAndDefault < 0;
}
