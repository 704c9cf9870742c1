namespace Hokusai.Bus;

/// <summary>URLs as they may be shown in logs, errors and metrics: user info and query removed (they may hold tokens).</summary>
internal static class WebhookUrl
{
    public static string Redact(Uri? url)
    {
        if (url is null)
        {
            return "(none)";
        }

        if (!url.IsAbsoluteUri)
        {
            return "(relative URL)";
        }

        var shown = url.GetLeftPart(UriPartial.Path);
        if (!string.IsNullOrEmpty(url.UserInfo))
        {
            shown = shown.Replace(url.UserInfo + "@", "***@", StringComparison.Ordinal);
        }

        return string.IsNullOrEmpty(url.Query) ? shown : shown + "?***";
    }
}
