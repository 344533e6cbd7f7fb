using System.Text.Json;
using DarkShip.Scoring.Onnx;
using DarkShip.Scoring.Tests.MLNet;

namespace DarkShip.Scoring.Tests.Onnx;

/// <summary>
/// ONNX models behind IModel: XGBoost models rewritten as ai.onnx.ml TreeEnsembleRegressor graphs
/// (tools/fixtures/generate_onnx_fixtures.py), scored by ONNX Runtime, give XGBoost's own predictions,
/// missing values included.
/// </summary>
public sealed class OnnxModelTests
{
    public static TheoryData<string> Fixtures => [.. Directory.GetDirectories(Root).Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal)];

    private static string Root => Path.Combine(AppContext.BaseDirectory, "Fixtures", "onnx");

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void EveryRow_ScoresAsTheReferenceDid(string name)
    {
        var (model, rows, expected) = Load(name);
        var width = model.GetOutputCount(OutputKind.Transformed);
        var output = new float[width];

        for (var r = 0; r < rows.Length; r++)
        {
            model.Predict(rows[r], output);
            Assert.Equal(expected[r].Length, width);
            for (var i = 0; i < width; i++)
            {
                var tolerance = 2e-6 + (2e-6 * Math.Abs(expected[r][i]));
                var same = float.IsNaN(expected[r][i]) ? float.IsNaN(output[i]) : Math.Abs(expected[r][i] - output[i]) <= tolerance;
                Assert.True(same, $"{name} row {r} output {i}: the reference (XGBoost; numpy for named_inputs) gave {expected[r][i]}, ONNX Runtime {output[i]}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void ABatch_EqualsRowByRow(string name)
    {
        var (model, rows, _) = Load(name);
        var width = model.GetOutputCount(OutputKind.Transformed);
        var many = Enumerable.Range(0, 1_300).Select(i => rows[i % rows.Length]).ToArray(); // more than one 512-row chunk
        var batch = new float[many.Length * width];

        model.PredictBatch(many.SelectMany(r => r).ToArray(), batch);

        var one = new float[width];
        for (var r = 0; r < many.Length; r++)
        {
            model.Predict(many[r], one);
            Assert.Equal(one, batch.AsSpan(r * width, width).ToArray());
        }
    }

    [Fact]
    public void ManyThreadsAtOnce_GetWhatOneThreadGets()
    {
        var (model, rows, _) = Load("binary_logistic");
        var expected = rows.Select(r => { var o = new float[1]; model.Predict(r, o); return o[0]; }).ToArray();

        var mismatches = 0;
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, worker =>
        {
            var output = new float[1];
            for (var i = 0; i < 2_000; i++)
            {
                var r = (i + (worker * 5)) % rows.Length;
                model.Predict(rows[r], output);
                if (BitConverter.SingleToInt32Bits(output[0]) != BitConverter.SingleToInt32Bits(expected[r]))
                {
                    Interlocked.Increment(ref mismatches);
                }
            }
        });

        Assert.Equal(0, mismatches);
    }

    [Fact]
    public void ASignatureTheModelDisagreesWith_IsRefusedWithEveryProblemAtOnce()
    {
        var bytes = File.ReadAllBytes(Path.Combine(Root, "binary_logistic", "model.onnx"));
        var wrong = new ModelSignature([new ModelInput("a", InputKind.Number), new ModelInput("b", InputKind.Number)], ModelTask.Regression);

        var e = Assert.Throws<ModelFormatException>(() => OnnxModelReader.Read(bytes, wrong));

        Assert.Contains(e.Problems, p => p.Contains("of 30 values per row", StringComparison.Ordinal) && p.Contains("lists 2 features", StringComparison.Ordinal));
        Assert.Contains(e.Problems, p => p.Contains("manifest says a regression", StringComparison.Ordinal));
        Assert.Equal(2, e.Problems.Count);
    }

    [Fact]
    public void BytesThatAreNoOnnxModel_AreAFormatError()
    {
        var e = Assert.Throws<ModelFormatException>(() => OnnxModelReader.Read([0x08, 0x07, 0x12, 0xFF, 0xFF], signature: null));

        Assert.Contains("not an ONNX model", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutASignature_TheTensorsWidthGivesTheInputs_AndNoMarginIsOffered()
    {
        var bytes = File.ReadAllBytes(Path.Combine(Root, "binary_logistic", "model.onnx"));

        var model = OnnxModelReader.Read(bytes, signature: null);

        Assert.Equal(30, model.FeatureCount);
        Assert.Equal("f0", model.FeatureNames[0]);
        Assert.Equal(ModelTask.Probability, model.Signature.Task);
        Assert.False(((IModel)model).HasMargin);
    }

    [Theory]
    [InlineData("binary_logistic")]
    [InlineData("named_inputs")]
    public void AWarmCall_AllocatesNothing(string name)
    {
        var (model, rows, _) = Load(name);
        var output = new float[1];
        for (var i = 0; i < 1_000; i++)
        {
            model.Predict(rows[i % rows.Length], output);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            model.Predict(rows[i % rows.Length], output);
        }

        // The buffers are bound once (OrtIoBinding): a warm call, float, bool and string inputs alike, allocates nothing managed.
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static (OnnxModel Model, float[][] Rows, float[][] Expected) Load(string name)
    {
        var folder = Path.Combine(Root, name);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "cases.json")));
        var rows = MLNetFixture.Matrix(doc.RootElement.GetProperty("rows"));
        var expected = MLNetFixture.Matrix(doc.RootElement.GetProperty("transformed"));
        var task = name.StartsWith("reg", StringComparison.Ordinal) ? ModelTask.Regression : name.StartsWith("multi", StringComparison.Ordinal) ? ModelTask.Multiclass : ModelTask.Probability;
        var inputs = doc.RootElement.TryGetProperty("inputs", out var named)
            ? MLNetFixture.Inputs(named) // one ONNX input per feature, by name
            : [.. Enumerable.Range(0, rows[0].Length).Select(i => new ModelInput($"x{i}", InputKind.Number))]; // one [N, F] tensor
        var signature = new ModelSignature(inputs, task);
        return (OnnxModelReader.Read(File.ReadAllBytes(Path.Combine(folder, "model.onnx")), signature), rows, expected);
    }
}
