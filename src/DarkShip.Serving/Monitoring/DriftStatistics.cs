namespace DarkShip.Serving.Monitoring;

/// <summary>A two-sample test's statistic and its p-value.</summary>
public readonly record struct TestResult(double Statistic, double PValue);

/// <summary>
/// Distances and tests between two binned distributions over the same edges (a window against the
/// training baseline or the previous window). Everything works on bin counts, so its cost is the
/// number of bins, whatever the number of predictions behind them. Checked against scipy in
/// <c>tools/fixtures/generate_monitoring_fixtures.py</c>.
/// </summary>
public static class DriftStatistics
{
    /// <summary>Population stability index; see <see cref="Histogram.Psi"/>.</summary>
    public static double Psi(Histogram current, Histogram reference) => current.Psi(reference);

    /// <summary>Jensen–Shannon distance in base 2 (the square root of the divergence), in [0, 1]; symmetric, and finite with empty bins.</summary>
    public static double JensenShannon(Histogram current, Histogram reference)
    {
        SameEdges(current, reference);
        double n = current.Total, m = reference.Total;
        if (n == 0 || m == 0)
        {
            return double.NaN;
        }

        var divergence = 0.0;
        for (var i = 0; i < current.Counts.Length; i++)
        {
            double p = current.Counts[i] / n, q = reference.Counts[i] / m, mid = (p + q) / 2;
            if (p > 0)
            {
                divergence += p * Math.Log2(p / mid) / 2;
            }

            if (q > 0)
            {
                divergence += q * Math.Log2(q / mid) / 2;
            }
        }

        return Math.Sqrt(Math.Max(divergence, 0));
    }

    /// <summary>
    /// Two-sample Kolmogorov–Smirnov on the binned samples: D is the largest gap between the two
    /// cumulative distributions at the bin edges, the p-value the asymptotic Kolmogorov tail at
    /// √(n·m/(n+m))·D. Binning can only hide a gap, never invent one, so it errs towards "no drift".
    /// </summary>
    public static TestResult KolmogorovSmirnov(Histogram current, Histogram reference)
    {
        SameEdges(current, reference);
        double n = current.Total, m = reference.Total;
        if (n == 0 || m == 0)
        {
            return new TestResult(double.NaN, double.NaN);
        }

        double a = 0, b = 0, d = 0;
        for (var i = 0; i < current.Counts.Length; i++)
        {
            a += current.Counts[i];
            b += reference.Counts[i];
            d = Math.Max(d, Math.Abs(a / n - b / m));
        }

        return new TestResult(d, KolmogorovSurvival(Math.Sqrt(n * m / (n + m)) * d));
    }

    /// <summary>
    /// First Wasserstein distance (earth mover's) between the binned distributions, in the feature's
    /// units: each bin stands at its midpoint, the open outer bins at the outer edges.
    /// </summary>
    public static double Wasserstein(Histogram current, Histogram reference)
    {
        SameEdges(current, reference);
        double n = current.Total, m = reference.Total;
        if (n == 0 || m == 0)
        {
            return double.NaN;
        }

        var at = Representatives(current.Edges);
        double a = 0, b = 0, distance = 0;
        for (var i = 0; i < at.Length - 1; i++)
        {
            a += current.Counts[i];
            b += reference.Counts[i];
            distance += Math.Abs(a / n - b / m) * (at[i + 1] - at[i]);
        }

        return distance;
    }

    /// <summary>The standard deviation of a binned distribution (bins at their representatives): the scale a Wasserstein distance is judged against.</summary>
    public static double StandardDeviation(Histogram histogram)
    {
        var at = Representatives(histogram.Edges);
        double n = histogram.Total, mean = 0, square = 0;
        if (n == 0)
        {
            return double.NaN;
        }

        for (var i = 0; i < at.Length; i++)
        {
            mean += histogram.Counts[i] * at[i] / n;
        }

        for (var i = 0; i < at.Length; i++)
        {
            square += histogram.Counts[i] * (at[i] - mean) * (at[i] - mean) / n;
        }

        return Math.Sqrt(square);
    }

    /// <summary>
    /// Pearson's chi-square test of homogeneity on the 2 × k table of the two histograms' counts
    /// (bins empty in both dropped), with k − 1 degrees of freedom. For categorical features.
    /// </summary>
    public static TestResult ChiSquare(Histogram current, Histogram reference)
    {
        SameEdges(current, reference);
        double n = current.Total, m = reference.Total;
        if (n == 0 || m == 0)
        {
            return new TestResult(double.NaN, double.NaN);
        }

        double chi = 0;
        var columns = 0;
        for (var i = 0; i < current.Counts.Length; i++)
        {
            double column = current.Counts[i] + reference.Counts[i];
            if (column == 0)
            {
                continue;
            }

            columns++;
            double expectedCurrent = column * n / (n + m), expectedReference = column * m / (n + m);
            chi += Square(current.Counts[i] - expectedCurrent) / expectedCurrent + Square(reference.Counts[i] - expectedReference) / expectedReference;
        }

        return columns < 2 ? new TestResult(0, 1) : new TestResult(chi, ChiSquareSurvival(chi, columns - 1));
    }

    /// <summary>P(K &gt; λ) for the Kolmogorov distribution: 2 Σ (−1)^(k−1) e^(−2k²λ²).</summary>
    public static double KolmogorovSurvival(double lambda)
    {
        if (double.IsNaN(lambda))
        {
            return double.NaN;
        }

        if (lambda < 0.27)
        {
            return 1; // the alternating series converges slowly here, and the tail is 1 to 1e-5
        }

        if (lambda < 1)
        {
            // The complementary form converges fast for small λ: P(K ≤ λ) = √(2π)/λ Σ e^(−(2k−1)²π²/(8λ²)).
            var sum = 0.0;
            for (var k = 1; k <= 8; k++)
            {
                sum += Math.Exp(-Square(2 * k - 1) * Math.PI * Math.PI / (8 * lambda * lambda));
            }

            return 1 - Math.Sqrt(2 * Math.PI) / lambda * sum;
        }

        var tail = 0.0;
        for (var k = 1; k <= 100; k++)
        {
            var term = Math.Exp(-2.0 * k * k * lambda * lambda);
            tail += (k % 2 == 1 ? 2 : -2) * term;
            if (term < 1e-18)
            {
                break;
            }
        }

        return Math.Clamp(tail, 0, 1);
    }

    /// <summary>P(X &gt; x) for a chi-square variable with <paramref name="degrees"/> degrees of freedom: the regularized upper gamma Q(k/2, x/2).</summary>
    public static double ChiSquareSurvival(double x, int degrees) =>
        x <= 0 ? 1 : RegularizedUpperGamma(degrees / 2.0, x / 2);

    /// <summary>Q(a, x) = Γ(a, x) / Γ(a): by its series below a + 1, by Lentz's continued fraction above.</summary>
    public static double RegularizedUpperGamma(double a, double x)
    {
        if (x <= 0)
        {
            return 1;
        }

        var logPrefix = a * Math.Log(x) - x - LogGamma(a);
        if (x < a + 1)
        {
            double term = 1 / a, sum = term;
            for (var n = 1; n < 1000 && Math.Abs(term) > Math.Abs(sum) * 1e-16; n++)
            {
                term *= x / (a + n);
                sum += term;
            }

            return Math.Clamp(1 - sum * Math.Exp(logPrefix), 0, 1);
        }

        const double tiny = 1e-300;
        double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
        for (var i = 1; i < 1000; i++)
        {
            var an = -i * (i - a);
            b += 2;
            d = an * d + b;
            d = Math.Abs(d) < tiny ? tiny : d;
            c = b + an / c;
            c = Math.Abs(c) < tiny ? tiny : c;
            d = 1 / d;
            var delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < 1e-16)
            {
                break;
            }
        }

        return Math.Clamp(Math.Exp(logPrefix) * h, 0, 1);
    }

    /// <summary>ln Γ(x) for x &gt; 0 (Lanczos, g = 7, n = 9).</summary>
    public static double LogGamma(double x)
    {
        if (x < 0.5)
        {
            return Math.Log(Math.PI / Math.Abs(Math.Sin(Math.PI * x))) - LogGamma(1 - x);
        }

        ReadOnlySpan<double> g =
        [
            0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
            12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
        ];
        x -= 1;
        var sum = g[0];
        for (var i = 1; i < g.Length; i++)
        {
            sum += g[i] / (x + i);
        }

        var t = x + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }

    private static double[] Representatives(double[] edges)
    {
        var at = new double[edges.Length + 1];
        at[0] = edges[0];
        for (var i = 1; i < edges.Length; i++)
        {
            at[i] = (edges[i - 1] + edges[i]) / 2;
        }

        at[^1] = edges[^1];
        return at;
    }

    private static double Square(double x) => x * x;

    private static void SameEdges(Histogram a, Histogram b)
    {
        if (!a.Edges.AsSpan().SequenceEqual(b.Edges))
        {
            throw new ArgumentException("Both histograms must have the same edges.");
        }
    }
}
