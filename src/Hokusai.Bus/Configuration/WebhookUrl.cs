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

        if (string.IsNullOrEmpty(url.Authority) || url.Scheme is not ("http" or "https"))
        {
            // No "//host" part (e.g. "user:token@host/path" without its scheme), or a scheme such as ftp or gopher
            // whose query Uri does not split off: redact the text itself.
            return RedactText(url.OriginalString);
        }

        var shown = url.GetLeftPart(UriPartial.Path);
        if (!string.IsNullOrEmpty(url.UserInfo))
        {
            shown = shown.Replace(url.UserInfo + "@", "***@", StringComparison.Ordinal);
        }

        return string.IsNullOrEmpty(url.Query) ? shown : shown + "?***";
    }

    /// <summary>A URL that did not parse, shown the same way: user info and everything from <c>?</c> or <c>#</c> removed.</summary>
    public static string RedactText(string url)
    {
        var end = url.IndexOfAny(['?', '#']);
        var shown = end < 0 ? url : url[..end] + "?***";
        var authorityStart = shown.IndexOf("://", StringComparison.Ordinal) is var scheme and >= 0 ? scheme + 3 : 0;
        var authorityEnd = shown.IndexOf('/', authorityStart) is var slash and >= 0 ? slash : shown.Length;
        var at = authorityEnd > authorityStart ? shown.LastIndexOf('@', authorityEnd - 1, authorityEnd - authorityStart) : -1;
        return at < 0 ? shown : shown[..authorityStart] + "***" + shown[at..];
    }
}
