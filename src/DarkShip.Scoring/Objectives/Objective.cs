namespace DarkShip.Scoring.Objectives;

/// <summary>
/// What an XGBoost objective does at prediction time: how <c>base_score</c> becomes a margin
/// (XGBoost's <c>ProbToMargin</c>) and how margins become outputs (<c>PredTransform</c>).
/// Arithmetic is single precision, as in XGBoost, so results match it to the last few ulps.
/// </summary>
internal abstract class Objective
{
    private static readonly Dictionary<string, Func<int, Objective>> Known = new(StringComparer.Ordinal)
    {
        ["binary:logistic"] = _ => new Logistic(),
        ["reg:logistic"] = _ => new Logistic(),
        ["binary:logitraw"] = _ => new Identity(), // base_score is a margin already (XGBoost ≥ 1.3, dmlc/xgboost#6517)
        ["binary:hinge"] = _ => new Hinge(),
        ["reg:squarederror"] = _ => new Identity(),
        ["reg:linear"] = _ => new Identity(),
        ["reg:squaredlogerror"] = _ => new Identity(),
        ["reg:pseudohubererror"] = _ => new Identity(),
        ["reg:absoluteerror"] = _ => new Identity(),
        ["reg:quantileerror"] = _ => new Identity(),
        ["count:poisson"] = _ => new Exponential(),
        ["reg:gamma"] = _ => new Exponential(),
        ["reg:tweedie"] = _ => new Exponential(),
        ["survival:cox"] = _ => new Exponential(),
        ["multi:softprob"] = classes => new SoftProb(classes),
        ["multi:softmax"] = classes => new SoftMax(classes),
        ["rank:pairwise"] = _ => new Identity(),
        ["rank:ndcg"] = _ => new Identity(),
        ["rank:map"] = _ => new Identity(),
    };

    /// <summary>The objective names DarkShip can score.</summary>
    public static IEnumerable<string> SupportedNames => Known.Keys;

    public static Objective Create(string name, int outputGroups)
    {
        if (!Known.TryGetValue(name, out var factory))
        {
            throw new ModelFormatException(
                $"objective '{name}' is not supported; supported objectives: {string.Join(", ", Known.Keys.Order(StringComparer.Ordinal))}");
        }

        var objective = factory(outputGroups);
        if (objective is MultiClass && outputGroups < 2)
        {
            throw new ModelFormatException($"objective '{name}' needs num_class >= 2, the model has {outputGroups}");
        }

        return objective;
    }

    /// <summary>Turns a <c>base_score</c> in output space into the margin every row starts from.</summary>
    public virtual float ProbToMargin(float baseScore) => baseScore;

    /// <summary>Numbers one row yields in transformed form, given the margin's width.</summary>
    public virtual int TransformedWidth(int marginWidth) => marginWidth;

    /// <summary>Transforms one row's margins; <paramref name="output"/> may alias <paramref name="margins"/>.</summary>
    public abstract void Transform(Span<float> margins, Span<float> output);

    private sealed class Identity : Objective
    {
        public override void Transform(Span<float> margins, Span<float> output) => margins.CopyTo(output);
    }

    private sealed class Logistic : Objective
    {
        private static float Logit(float p)
        {
            if (!(p > 0f && p < 1f))
            {
                throw new ModelFormatException($"base_score must lie in (0, 1) for a logistic objective, the model has {p}");
            }

            return -MathF.Log((1.0f / p) - 1.0f);
        }

        public override float ProbToMargin(float baseScore) => Logit(baseScore);

        public override void Transform(Span<float> margins, Span<float> output)
        {
            for (var i = 0; i < margins.Length; i++)
            {
                output[i] = 1.0f / (1.0f + MathF.Exp(-margins[i]));
            }
        }
    }

    private sealed class Exponential : Objective
    {
        public override float ProbToMargin(float baseScore)
        {
            if (!(baseScore > 0f))
            {
                throw new ModelFormatException($"base_score must be positive for a log-link objective, the model has {baseScore}");
            }

            return MathF.Log(baseScore);
        }

        public override void Transform(Span<float> margins, Span<float> output)
        {
            for (var i = 0; i < margins.Length; i++)
            {
                output[i] = MathF.Exp(margins[i]);
            }
        }
    }

    private sealed class Hinge : Objective
    {
        public override void Transform(Span<float> margins, Span<float> output)
        {
            for (var i = 0; i < margins.Length; i++)
            {
                output[i] = margins[i] > 0f ? 1f : 0f;
            }
        }
    }

    private abstract class MultiClass : Objective
    {
    }

    private sealed class SoftProb(int classes) : MultiClass
    {
        public override void Transform(Span<float> margins, Span<float> output)
        {
            var max = margins[0];
            for (var i = 1; i < classes; i++)
            {
                max = MathF.Max(max, margins[i]);
            }

            var sum = 0f;
            for (var i = 0; i < classes; i++)
            {
                var e = MathF.Exp(margins[i] - max);
                output[i] = e;
                sum += e;
            }

            for (var i = 0; i < classes; i++)
            {
                output[i] /= sum;
            }
        }
    }

    private sealed class SoftMax(int classes) : MultiClass
    {
        public override int TransformedWidth(int marginWidth) => 1;

        public override void Transform(Span<float> margins, Span<float> output)
        {
            // XGBoost's argmax: the first class holding the largest margin.
            var best = 0;
            for (var i = 1; i < classes; i++)
            {
                if (margins[i] > margins[best])
                {
                    best = i;
                }
            }

            output[0] = best;
        }
    }
}
