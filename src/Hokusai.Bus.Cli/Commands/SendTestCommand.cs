using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Hokusai.Bus.Contracts;

namespace Hokusai.Bus.Cli.Commands;

/// <summary>
/// <c>send-test</c>: the integration guide's <c>send_test_webhook</c>, byte for byte: the test payload as Python's
/// <c>json.dumps</c> writes it (default separators), signed, POSTed; prints <c>Status:</c> and <c>Response:</c>.
/// </summary>
internal static class SendTestCommand
{
    public static Command Create()
    {
        var url = CommonOptions.Url("--url", "The receiver's webhook URL, e.g. http://127.0.0.1:8080/api/models/ready.");
        var secret = CommonOptions.Secret();
        var timeout = CommonOptions.Seconds("--timeout", "Give up after this many seconds.", 30, minimum: 0.1);
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Also print the body and headers sent (on stderr)." };

        var command = new Command("send-test", "Send the guide's signed test registration (model_id test_model_001) to a receiver; exit 0 on a 2xx answer.")
        {
            url, secret, timeout, verbose,
        };
        CommonOptions.RequireSecret(command, secret);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var target = parseResult.GetRequiredValue(url);
            var key = Guid.NewGuid().ToString();
            var body = TestPayload(key, DateTime.UtcNow);
            var signature = new WebhookSigner(CommonOptions.SecretOf(parseResult, secret)).Sign(body);
            if (parseResult.GetValue(verbose))
            {
                await Console.Error.WriteLineAsync($"POST {target}");
                await Console.Error.WriteLineAsync($"{WebhookHeaders.Signature}: {signature}");
                await Console.Error.WriteLineAsync($"{WebhookHeaders.IdempotencyKey}: {key}");
                await Console.Error.WriteLineAsync(Encoding.UTF8.GetString(body));
            }

            using var http = Http.Client(parseResult.GetSeconds(timeout));
            using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.TryAddWithoutValidation(WebhookHeaders.Signature, signature);
            request.Headers.TryAddWithoutValidation(WebhookHeaders.IdempotencyKey, key);

            var (response, error) = await Http.SendAsync(http, request, cancellationToken);
            if (response is null)
            {
                Terminal.Error($"cannot POST to {WebhookUrl.Redact(target)}: {error}");
                return ExitCodes.Failure;
            }

            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken);
                Console.WriteLine($"Status: {(int)response.StatusCode}");
                Console.WriteLine($"Response: {text}");
                return response.IsSuccessStatusCode ? ExitCodes.Success : ExitCodes.Failure;
            }
        });
        return command;
    }

    /// <summary>
    /// The guide's test payload as <c>json.dumps(payload).encode()</c> writes it: <c>", "</c> and <c>": "</c>
    /// separators, keys in the guide's order, the timestamp as <c>datetime.utcnow().isoformat() + "Z"</c>.
    /// </summary>
    public static byte[] TestPayload(string idempotencyKey, DateTime utcNow)
    {
        // isoformat(): microseconds, and no fraction at all when they are zero.
        var timestamp = utcNow.ToString(
            utcNow.Ticks % TimeSpan.TicksPerSecond / 10 == 0 ? "yyyy-MM-dd'T'HH:mm:ss" : "yyyy-MM-dd'T'HH:mm:ss.ffffff",
            CultureInfo.InvariantCulture) + "Z";
        var json =
            "{\"model_id\": \"test_model_001\", "
            + $"\"idempotency_key\": \"{idempotencyKey}\", "
            + "\"registered_version\": \"1\", "
            + $"\"timestamp\": \"{timestamp}\", "
            + "\"token_symbol\": \"TEST_TOKEN\", "
            + "\"baseline_metrics\": {\"accuracy\": 0.95}, "
            + "\"metadata\": {\"model_name\": \"test-model\", \"test\": true}}";
        return Encoding.UTF8.GetBytes(json);
    }
}
