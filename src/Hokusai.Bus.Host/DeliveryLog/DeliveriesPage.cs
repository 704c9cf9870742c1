using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Hokusai.Bus.Operations.DeliveryLog;

namespace Hokusai.Bus.Host.DeliveryLog;

/// <summary>
/// The read-only HTML page <c>GET /deliveries</c> serves to a browser: one timeline per delivery, oldest record first,
/// every value HTML-encoded (keys, reasons and model ids come from messages). No script, no external resource.
/// </summary>
internal static class DeliveriesPage
{
    private static readonly HtmlEncoder Html = HtmlEncoder.Default;

    public static string Render(DeliveryQuery query, IReadOnlyList<DeliveryTimeline> timelines, DateTimeOffset now)
    {
        var page = new StringBuilder(4096);
        page.Append("""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Hokusai deliveries</title>
            <style>
            body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
            h1{font-size:1.3em} .timeline{border:1px solid #ccc;border-radius:6px;margin:1em 0;padding:.5em 1em}
            section.delivered{border-left:6px solid #2a7} section.failed{border-left:6px solid #c33} section.waiting{border-left:6px solid #e90}
            table{border-collapse:collapse;width:100%} td,th{padding:2px 8px;text-align:left;border-bottom:1px solid #eee;font-size:13px}
            code{font-size:12px} .meta{color:#555}
            </style></head><body>
            """);
        page.Append("<h1>Deliveries</h1><p class=\"meta\">")
            .Append(Html.Encode($"{timelines.Count} timeline(s), records since {query.From(now):u}"))
            .Append(query.Key is null ? "" : ", key " + Html.Encode(query.Key))
            .Append(query.ModelId is null ? "" : ", model " + Html.Encode(query.ModelId))
            .Append(query.Endpoint is null ? "" : ", endpoint " + Html.Encode(query.Endpoint))
            .Append(query.Status is null ? "" : ", " + Html.Encode(query.Status.Value.ToString().ToLowerInvariant()))
            .Append(". Read-only.</p>");

        foreach (var timeline in timelines)
        {
            var status = timeline.Status.ToString().ToLowerInvariant();
            page.Append("<section class=\"timeline ").Append(status).Append("\" data-key=\"").Append(Html.Encode(timeline.Key)).Append("\">")
                .Append("<h2><code>").Append(Html.Encode(timeline.Key)).Append("</code> <span class=\"status\">").Append(status).Append("</span></h2>")
                .Append("<p class=\"meta\">").Append(Html.Encode($"{timeline.EventType}"))
                .Append(timeline.ModelId is null ? "" : Html.Encode($", model {timeline.ModelId}"))
                .Append(Html.Encode($", endpoints {string.Join(", ", timeline.Endpoints)}, hosts {string.Join(", ", timeline.Hosts)}"))
                .Append(timeline.NextTry is { } next ? Html.Encode($", next try {next:u}") : "")
                .Append("</p><table><thead><tr><th>time (UTC)</th><th>what</th><th>endpoint</th><th>detail</th><th>host</th></tr></thead><tbody>");
            foreach (var record in timeline.Records)
            {
                page.Append("<tr class=\"").Append(record.Kind.ToString().ToLowerInvariant()).Append("\"><td>")
                    .Append(Html.Encode(record.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture))).Append("</td><td>")
                    .Append(Html.Encode(DeliveryRecordText.What(record))).Append("</td><td>").Append(Html.Encode(record.Endpoint)).Append("</td><td>")
                    .Append(Html.Encode(DeliveryRecordText.Detail(record))).Append("</td><td>").Append(Html.Encode(record.Host)).Append("</td></tr>");
            }

            page.Append("</tbody></table></section>");
        }

        return page.Append("</body></html>").ToString();
    }
}
