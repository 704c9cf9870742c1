using System.Text;

namespace Hokusai.Bus.Contracts;

/// <summary>
/// Values from messages as they may appear in a log line, an error or a header: control and line-break characters
/// escaped (<c>\r</c>, <c>\n</c>, <c>\u0007</c>), so a value can never forge a log line or a header, and cut to a
/// length with the original length stated.
/// </summary>
public static class SafeText
{
    /// <summary>The longest text kept by default; the rest is replaced by a note of the full length.</summary>
    public const int DefaultMaxLength = 128;

    /// <summary><paramref name="value"/> with control characters escaped and cut to <paramref name="maxLength"/> characters.</summary>
    public static string Of(string? value, int maxLength = DefaultMaxLength)
    {
        if (value is null)
        {
            return "(null)";
        }

        var cut = value.Length > maxLength;
        var shown = cut ? value.AsSpan(0, maxLength) : value.AsSpan();
        if (!cut && !NeedsEscaping(shown))
        {
            return value;
        }

        var text = new StringBuilder(shown.Length + 16);
        foreach (var c in shown)
        {
            switch (c)
            {
                case '\r':
                    text.Append("\\r");
                    break;
                case '\n':
                    text.Append("\\n");
                    break;
                case '\t':
                    text.Append("\\t");
                    break;
                default:
                    if (char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029')
                    {
                        text.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        text.Append(c);
                    }

                    break;
            }
        }

        if (cut)
        {
            text.Append("… (").Append(value.Length).Append(" characters)");
        }

        return text.ToString();
    }

    private static bool NeedsEscaping(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029')
            {
                return true;
            }
        }

        return false;
    }
}
