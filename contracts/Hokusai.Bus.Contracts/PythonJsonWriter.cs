using System.Text;
using System.Text.Json;

namespace Hokusai.Bus.Contracts;

/// <summary>
/// Writes JSON byte for byte as Python's <c>json.dumps(obj, separators=(",", ":"))</c> does with its default
/// <c>ensure_ascii=True</c>: no spaces, every character outside printable ASCII escaped as lowercase <c>\uXXXX</c>
/// (UTF-16, so astral characters as surrogate pairs), <c>\n \r \t \b \f \" \\</c> by name, <c>/</c> never escaped.
/// The output is ASCII. Numbers are written as their JSON text, unchanged.
/// </summary>
internal sealed class PythonJsonWriter
{
    private readonly StringBuilder _text = new(256);
    private bool _needsComma;

    public PythonJsonWriter StartObject()
    {
        Comma();
        _text.Append('{');
        _needsComma = false;
        return this;
    }

    public PythonJsonWriter EndObject()
    {
        _text.Append('}');
        _needsComma = true;
        return this;
    }

    /// <summary>Writes <c>"name":</c>; the value follows.</summary>
    public PythonJsonWriter Name(string name)
    {
        Comma();
        AppendString(name);
        _text.Append(':');
        _needsComma = false;
        return this;
    }

    public PythonJsonWriter String(string name, string value)
    {
        Name(name);
        AppendString(value);
        _needsComma = true;
        return this;
    }

    /// <summary>Writes <c>"name":"value"</c> only when <paramref name="value"/> is not null: absent keys are left out.</summary>
    public PythonJsonWriter StringIfPresent(string name, string? value) => value is null ? this : String(name, value);

    /// <summary>Any JSON value, written the way Python writes the object <c>json.loads</c> makes of it.</summary>
    public PythonJsonWriter Value(JsonElement value)
    {
        Comma();
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                _text.Append('{');
                _needsComma = false;
                foreach (var property in value.EnumerateObject())
                {
                    Name(property.Name).Value(property.Value);
                }

                _text.Append('}');
                break;
            case JsonValueKind.Array:
                _text.Append('[');
                _needsComma = false;
                foreach (var item in value.EnumerateArray())
                {
                    Value(item);
                }

                _text.Append(']');
                break;
            case JsonValueKind.String:
                AppendString(value.GetString()!);
                break;
            case JsonValueKind.Number:
                _text.Append(value.GetRawText());
                break;
            case JsonValueKind.True:
                _text.Append("true");
                break;
            case JsonValueKind.False:
                _text.Append("false");
                break;
            default:
                _text.Append("null");
                break;
        }

        _needsComma = true;
        return this;
    }

    /// <summary>The text written so far, as (ASCII, so also UTF-8) bytes.</summary>
    public byte[] ToUtf8Bytes() => Encoding.ASCII.GetBytes(_text.ToString());

    private void Comma()
    {
        if (_needsComma)
        {
            _text.Append(',');
        }
    }

    private void AppendString(string value)
    {
        _text.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    _text.Append("\\\"");
                    break;
                case '\\':
                    _text.Append("\\\\");
                    break;
                case '\n':
                    _text.Append("\\n");
                    break;
                case '\r':
                    _text.Append("\\r");
                    break;
                case '\t':
                    _text.Append("\\t");
                    break;
                case '\b':
                    _text.Append("\\b");
                    break;
                case '\f':
                    _text.Append("\\f");
                    break;
                case < ' ' or > '~':
                    _text.Append("\\u").Append(((int)c).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
                    break;
                default:
                    _text.Append(c);
                    break;
            }
        }

        _text.Append('"');
    }
}
