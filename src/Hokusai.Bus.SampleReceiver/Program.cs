// A webhook receiver for Hokusai model registrations, as a user would write one with Hokusai.Bus.Receiver.
// WEBHOOK_SECRET or WEBHOOK_SECRET_FILE (a Docker secret; required), REDIS_URL (optional: de-duplicate across instances), STANDARD_WEBHOOKS=true (optional).
using Hokusai.Bus.Receiver;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateBuilder(args);
var secret = builder.Configuration["WEBHOOK_SECRET"] ?? "";
if (builder.Configuration["WEBHOOK_SECRET_FILE"] is { Length: > 0 } secretFile)
{
    try
    {
        secret = File.ReadAllText(secretFile).TrimEnd('\r', '\n');
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
    {
        // As the delivery host says it: the variable and the path, never the content or a stack trace.
        var reason = e is FileNotFoundException or DirectoryNotFoundException ? "it does not exist" : "it cannot be read (" + e.GetType().Name + ")";
        Console.Error.WriteLine("The receiver cannot start; fix these settings:");
        Console.Error.WriteLine($"  WEBHOOK_SECRET_FILE names {secretFile}, but {reason}.");
        return 2;
    }
}

builder.Services.AddHokusaiWebhookReceiver(o =>
{
    o.Secret = secret;
    o.RequireStandardWebhooks = string.Equals(builder.Configuration["STANDARD_WEBHOOKS"], "true", StringComparison.OrdinalIgnoreCase);
});
if (builder.Configuration["REDIS_URL"] is { Length: > 0 } redis)
{
    builder.Services.AddHokusaiRedisIdempotencyStore(redis);
}

var app = builder.Build();
try
{
    // Settings are checked before the host runs: a host that fails to start logs the exception with its stack trace.
    _ = app.Services.GetRequiredService<IOptions<HokusaiReceiverOptions>>().Value;
}
catch (OptionsValidationException invalid)
{
    // A missing WEBHOOK_SECRET: say so and exit 2, as the delivery host does, instead of an unhandled exception.
    Console.Error.WriteLine("The receiver cannot start; fix these settings:");
    foreach (var failure in invalid.Failures)
    {
        Console.Error.WriteLine("  " + failure);
    }

    return 2;
}

// Unsigned, for load balancers (GET) and `hokusai-bus health` (POST {"test": true}, as the guide's curl).
app.MapMethods("/health", ["GET", "POST"], () => "Healthy");
app.MapHokusaiWebhook("/api/models/ready", (registration, http, _) =>
{
    app.Logger.LogInformation("Model {ModelId} v{Version} ({Token}) is ready: key {Key}",
        registration.ModelId, registration.RegisteredVersion, registration.TokenSymbol, registration.IdempotencyKey);
    return Task.CompletedTask;
});

await app.RunAsync();
return 0;
