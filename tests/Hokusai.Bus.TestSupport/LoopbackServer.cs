using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Hokusai.Bus.TestSupport;

/// <summary>
/// The one place tests start Kestrel: a slim ASP.NET Core app on 127.0.0.1, on an ephemeral port unless one is
/// given, with no logging.
/// What it does with a request is the caller's: <c>map</c> adds the endpoints or middleware, <c>configure</c> adds
/// services, Kestrel limits or logging before the app is built.
/// </summary>
public sealed class LoopbackServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _disposed;

    private LoopbackServer(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    /// <summary><c>http://127.0.0.1:port/</c>.</summary>
    public Uri BaseUrl { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Builds and starts the app; if it does not start, it is disposed and the error thrown.</summary>
    public static async Task<LoopbackServer> StartAsync(
        Action<WebApplication> map, Action<WebApplicationBuilder>? configure = null, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        configure?.Invoke(builder);
        var app = builder.Build();
        try
        {
            map(app);
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new LoopbackServer(app, new Uri(app.Urls.First().TrimEnd('/') + "/"));
    }

    /// <summary>A URL on this server.</summary>
    public Uri At(string path) => new(BaseUrl, path.TrimStart('/'));

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
