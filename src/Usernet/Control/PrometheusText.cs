using System.Globalization;
using System.Text;

namespace Usernet.Control;

/// <summary>
/// Prometheus' text exposition format, version 0.0.4
/// (https://prometheus.io/docs/instrumenting/exposition_formats/): each family once, as a
/// "# HELP" and a "# TYPE" line followed by its samples. Built only when scraped, into one
/// string; nothing of it runs on the packet path.
/// Family -> (Sample)* -> next Family; a family name written twice is a bug and throws.
/// </summary>
internal sealed class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly StringBuilder _text = new();
    private readonly HashSet<string> _families = new(StringComparer.Ordinal);
    private string? _family;

    /// <summary>Starts a counter family; its name ends in <c>_total</c>, as Prometheus' conventions want.</summary>
    public PrometheusText Counter(string name, string help)
    {
        if (!name.EndsWith("_total", StringComparison.Ordinal))
        {
            throw new ArgumentException($"counter {name} must end in _total", nameof(name));
        }
        return Family(name, "counter", help);
    }

    public PrometheusText Gauge(string name, string help) => Family(name, "gauge", help);

    /// <summary>Starts a histogram family; its samples are written by <see cref="Histogram"/>.</summary>
    public PrometheusText HistogramFamily(string name, string help) => Family(name, "histogram", help);

    /// <summary>One sample of the current family, with up to two labels (Prometheus wants few).</summary>
    public PrometheusText Sample(double value, string? label = null, string? labelValue = null, string? label2 = null, string? label2Value = null)
    {
        string family = _family ?? throw new InvalidOperationException("a sample before its family");
        WriteSample(family, value, label, labelValue, label2, label2Value);
        return this;
    }

    /// <summary>
    /// The samples of a histogram family: one <c>_bucket</c> per upper bound (cumulative), the
    /// <c>+Inf</c> bucket, <c>_sum</c> and <c>_count</c>.
    /// </summary>
    public PrometheusText Histogram(IReadOnlyList<double> upperBounds, IReadOnlyList<long> cumulativeCounts, double sum, long count)
    {
        string family = _family ?? throw new InvalidOperationException("a sample before its family");
        for (int i = 0; i < upperBounds.Count; i++)
        {
            WriteSample(family + "_bucket", cumulativeCounts[i], "le", Number(upperBounds[i]));
        }
        WriteSample(family + "_bucket", count, "le", "+Inf");
        WriteSample(family + "_sum", sum);
        WriteSample(family + "_count", count);
        return this;
    }

    public override string ToString() => _text.ToString();

    private PrometheusText Family(string name, string type, string help)
    {
        if (!IsMetricName(name))
        {
            throw new ArgumentException($"{name} is not a metric name", nameof(name));
        }
        if (!_families.Add(name))
        {
            throw new InvalidOperationException($"the family {name} is written twice");
        }
        _family = name;
        _text.Append("# HELP ").Append(name).Append(' ');
        AppendEscaped(help, escapeQuote: false);
        _text.Append('\n');
        _text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        return this;
    }

    private void WriteSample(string name, double value, string? label = null, string? labelValue = null, string? label2 = null, string? label2Value = null)
    {
        _text.Append(name);
        if (label is not null)
        {
            _text.Append('{');
            AppendLabel(label, labelValue ?? "");
            if (label2 is not null)
            {
                _text.Append(',');
                AppendLabel(label2, label2Value ?? "");
            }
            _text.Append('}');
        }
        _text.Append(' ').Append(Number(value)).Append('\n');
    }

    private void AppendLabel(string name, string value)
    {
        if (!IsLabelName(name))
        {
            throw new ArgumentException($"{name} is not a label name", nameof(name));
        }
        _text.Append(name).Append("=\"");
        AppendEscaped(value, escapeQuote: true);
        _text.Append('"');
    }

    /// <summary>
    /// HELP text escapes backslash and line feed; a label value also the double quote. Nothing
    /// else is escaped: the format is UTF-8.
    /// </summary>
    private void AppendEscaped(string text, bool escapeQuote)
    {
        foreach (char c in text)
        {
            switch (c)
            {
                case '\\':
                    _text.Append(@"\\");
                    break;
                case '\n':
                    _text.Append(@"\n");
                    break;
                case '"' when escapeQuote:
                    _text.Append("\\\"");
                    break;
                default:
                    _text.Append(c);
                    break;
            }
        }
    }

    /// <summary>A sample value as Go's ParseFloat reads it: integers without an exponent, +Inf, -Inf, NaN.</summary>
    internal static string Number(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    /// <summary>[a-zA-Z_:][a-zA-Z0-9_:]*</summary>
    private static bool IsMetricName(string name) => IsName(name, colonAllowed: true);

    /// <summary>[a-zA-Z_][a-zA-Z0-9_]*, and not the reserved __ prefix.</summary>
    private static bool IsLabelName(string name) => IsName(name, colonAllowed: false) && !name.StartsWith("__", StringComparison.Ordinal);

    private static bool IsName(string name, bool colonAllowed)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0]))
        {
            return false;
        }
        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_' || (colonAllowed && c == ':')))
            {
                return false;
            }
        }
        return true;
    }
}
