using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;

namespace Usernet.Config;

/// <summary>
/// A number within a range: a count (whole numbers only) or a duration in seconds, where
/// fractions are allowed so that tests can make timers short.
/// </summary>
internal sealed class NumberSettingType<T>(double minimum, double maximum, bool wholeOnly, Func<double, T> fromNumber, Func<T, double> toNumber)
    : SettingType<T>
{
    public override string Expected => wholeOnly ? "a whole number" : "a number";

    private string Range => $"({Show(minimum)}..{Show(maximum)})";

    public override bool TryParseJson(JsonElement element, [MaybeNullWhen(false)] out T value, [NotNullWhen(false)] out string? error)
    {
        if (element.ValueKind != JsonValueKind.Number)
        {
            value = default;
            error = WrongKind(element);
            return false;
        }
        return Check(element.GetDouble(), element.GetRawText(), out value, out error);
    }

    public override bool TryParseText(string text, [MaybeNullWhen(false)] out T value, [NotNullWhen(false)] out string? error)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double number))
        {
            value = default;
            error = $"{Quote(text)} is not {Expected}";
            return false;
        }
        return Check(number, text.Trim(), out value, out error);
    }

    private bool Check(double number, string shown, [MaybeNullWhen(false)] out T value, [NotNullWhen(false)] out string? error)
    {
        value = default;
        error = !double.IsFinite(number) ? $"{shown} is not {Expected}"
            : wholeOnly && Math.Floor(number) != number ? $"{shown} is not a whole number"
            : number < minimum || number > maximum ? $"{shown} is out of range {Range}"
            : null;
        if (error is null)
        {
            value = fromNumber(number);
        }
        return error is null;
    }

    public override string Format(T value) => Show(toNumber(value));

    public override void WriteJson(Utf8JsonWriter writer, T value) => writer.WriteNumberValue(toNumber(value));

    private static string Show(double number) => number.ToString(CultureInfo.InvariantCulture);
}
