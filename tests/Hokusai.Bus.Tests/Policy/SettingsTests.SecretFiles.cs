using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Hokusai.Bus.Tests.Policy;

/// <summary>Secrets from files (<c>&lt;NAME&gt;_FILE</c>, the Docker and Kubernetes secrets convention), issue #15.</summary>
public sealed partial class SettingsTests
{
    [Fact]
    public async Task Secrets_are_read_from_the_files_the_FILE_variables_name_trailing_newline_trimmed()
    {
        using var files = new SecretFiles();
        var settings = Valid(
            ("WEBHOOK_SECRET", null),
            ("WEBHOOK_SECRET_FILE", files.Write("webhook", "from-a-file-5d2a\n")),
            ("WEBHOOK_ROTATION_SECRETS_FILE", files.Write("rotation", "old-one-81c3\r\nold-two-0b7e\n\n")));

        var options = await ResolvedAsync(settings);

        Assert.Equal("from-a-file-5d2a", options.Secret);
        Assert.Equal(["old-one-81c3", "old-two-0b7e"], options.RotationSecrets);
    }

    [Fact]
    public void The_broker_and_Redis_passwords_come_from_files_and_replace_those_in_the_urls()
    {
        using var files = new SecretFiles();
        var (host, guide) = Build(Valid(
            ("RABBITMQ_URL", "amqp://hokusai:in-the-url@rabbit.internal:5672/prod"),
            ("RABBITMQ_PASSWORD_FILE", files.Write("rabbit", "rabbit-from-file-77e0\n")),
            ("ENABLE_REDIS_FALLBACK", "true"),
            ("REDIS_URL", "redis://:in-the-url@redis.internal:6379/0"),
            ("REDIS_PASSWORD_FILE", files.Write("redis", "redis-from-file-3f9b\n"))));
        using var _ = host;
        Assert.Empty(guide.Failures(host.Services));

        var rabbit = guide.RabbitMq;
        Assert.Equal(("hokusai", "rabbit-from-file-77e0", "rabbit.internal", "prod"), (rabbit.User, rabbit.Password, rabbit.Nodes[0].Host, rabbit.VirtualHost));
        Assert.Equal("redis-from-file-3f9b", host.Services.GetRequiredService<IOptions<HokusaiRedisOptions>>().Value.Password);
    }

    [Fact]
    public void The_readmes_production_settings_as_written_start_a_host_with_every_secret_from_its_file()
    {
        // The "Production settings" block of docs/OPERATIONS.md, line by line; each /run/secrets/<name> becomes a file here.
        using var files = new SecretFiles();
        var readme = File.ReadLines(Packaging.Repository.File("docs", "OPERATIONS.md")).SkipWhile(l => l != "### Production settings (AWS, Kubernetes, compose)")
            .SkipWhile(l => l != "```bash").Skip(1).TakeWhile(l => l != "```")
            .Select(l => l.Split('#')[0].Trim()).Where(l => l.Length > 0)
            .Select(l => (Key: l[..l.IndexOf('=')], Value: l[(l.IndexOf('=') + 1)..])).ToList();
        Assert.Contains(readme, s => s.Key == "Hokusai__Webhook__Endpoints__token__SecretFile");
        var settings = new Dictionary<string, string?>();
        foreach (var (key, value) in readme)
        {
            // The environment variable provider turns __ into the section separator.
            settings[key.Replace("__", ":", StringComparison.Ordinal)] = value.StartsWith("/run/secrets/", StringComparison.Ordinal)
                ? files.Write(value["/run/secrets/".Length..], value["/run/secrets/".Length..] + "-from-its-file\n")
                : value;
        }

        var (host, guide) = Build(settings);
        using var _ = host;
        Assert.Empty(guide.Failures(host.Services));

        var monitor = host.Services.GetRequiredService<IOptionsMonitor<HokusaiWebhookOptions>>();
        Assert.Equal("webhook_secret-from-its-file", monitor.Get(Options.DefaultName).Secret);
        Assert.Equal("token_secret-from-its-file", monitor.Get("token").Secret);
        var rabbit = guide.RabbitMq;
        Assert.Equal(("hokusai", "rabbitmq_password-from-its-file", "rabbit.internal", (ushort)5671, "prod", true),
            (rabbit.User, rabbit.Password, rabbit.Nodes[0].Host, rabbit.Nodes[0].Port, rabbit.VirtualHost, rabbit.UseSsl));
    }

    [Fact]
    public void A_missing_WEBHOOK_SECRET_FILE_is_one_failure_not_also_WEBHOOK_SECRET_is_required()
    {
        using var files = new SecretFiles();
        var missing = Path.Combine(files.Directory, "no-such-secret");
        var settings = Valid(("WEBHOOK_SECRET_FILE", missing));
        settings.Remove("WEBHOOK_SECRET");
        var (host, guide) = Build(settings);
        using var _ = host;

        Assert.Equal([$"WEBHOOK_SECRET_FILE names {missing}, but it does not exist."], guide.Failures(host.Services));
    }

    [Fact]
    public void A_missing_file_or_a_secret_set_twice_stops_start_up_naming_the_variables_never_the_content()
    {
        using var files = new SecretFiles();
        var missing = Path.Combine(files.Directory, "no-such-secret");
        var (host, guide) = Build(Valid(
            ("WEBHOOK_SECRET_FILE", files.Write("webhook", "twice-set-c0ffee\n")),
            ("ENABLE_REDIS_FALLBACK", "true"), // REDIS_* settings are read (and checked) only with the Redis feed on
            ("REDIS_PASSWORD_FILE", missing)));
        using var _ = host;

        var failures = guide.Failures(host.Services);

        Assert.Contains("WEBHOOK_SECRET and WEBHOOK_SECRET_FILE are both set; set one of them.", failures);
        Assert.Contains($"REDIS_PASSWORD_FILE names {missing}, but it does not exist.", failures);
        Assert.Equal(2, failures.Count);
        Assert.All(failures, f => Assert.DoesNotContain("twice-set-c0ffee", f, StringComparison.Ordinal));
        Assert.All(failures, f => Assert.DoesNotContain(Secret, f, StringComparison.Ordinal));
    }

    [Fact]
    public void A_bad_secret_read_from_a_file_is_reported_under_the_FILE_variable()
    {
        using var files = new SecretFiles();
        var (host, guide) = Build(Valid(("WEBHOOK_SECRET", null), ("WEBHOOK_SECRET_FILE", files.Write("empty", "\n"))));
        using var _ = host;

        var failure = Assert.Single(guide.Failures(host.Services));
        Assert.StartsWith("WEBHOOK_SECRET_FILE ", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void A_named_endpoint_takes_its_secrets_from_the_files_its_SecretFile_keys_name_and_others_still_inherit()
    {
        using var files = new SecretFiles();
        var (host, guide) = Build(Valid(
            ("Hokusai:Webhook:Endpoints:token:Url", "https://token.example.com/hooks"),
            ("Hokusai:Webhook:Endpoints:token:SecretFile", files.Write("token", "token-from-file-6b2d\n")),
            ("Hokusai:Webhook:Endpoints:token:RotationSecretsFile", files.Write("token-old", "token-old-1\ntoken-old-2\n")),
            ("Hokusai:Webhook:Endpoints:audit:Url", "https://audit.example.com/hooks")));
        using var _ = host;
        Assert.Empty(guide.Failures(host.Services));

        var monitor = host.Services.GetRequiredService<IOptionsMonitor<HokusaiWebhookOptions>>();
        Assert.Equal("token-from-file-6b2d", monitor.Get("token").Secret);
        Assert.Equal(["token-old-1", "token-old-2"], monitor.Get("token").RotationSecrets);
        Assert.Equal(Secret, monitor.Get("audit").Secret); // nothing of its own: WEBHOOK_SECRET
        Assert.Equal(Secret, monitor.Get(Options.DefaultName).Secret);
    }

    [Fact]
    public void A_named_endpoints_missing_secret_file_or_secret_set_twice_stops_start_up_naming_the_key_never_the_content()
    {
        using var files = new SecretFiles();
        var missing = Path.Combine(files.Directory, "no-such-secret");
        var (host, guide) = Build(Valid(
            ("Hokusai:Webhook:Endpoints:token:Url", "https://token.example.com/hooks"),
            ("Hokusai:Webhook:Endpoints:token:SecretFile", missing),
            ("Hokusai:Webhook:Endpoints:audit:Url", "https://audit.example.com/hooks"),
            ("Hokusai:Webhook:Endpoints:audit:Secret", "audit-in-the-value-a1f3"),
            ("Hokusai:Webhook:Endpoints:audit:SecretFile", files.Write("audit", "audit-in-the-file-77c2\n"))));
        using var _ = host;

        var failures = guide.Failures(host.Services);

        Assert.Contains($"Hokusai__Webhook__Endpoints__token__SecretFile names {missing}, but it does not exist.", failures);
        Assert.Contains("Hokusai__Webhook__Endpoints__audit__Secret and Hokusai__Webhook__Endpoints__audit__SecretFile are both set; "
            + "set one of them.", failures);
        Assert.Equal(2, failures.Count);
        Assert.All(failures, f => Assert.DoesNotContain("audit-in-the", f, StringComparison.Ordinal));
    }

    /// <summary>A throwaway folder of secret files, as Docker mounts them under /run/secrets.</summary>
    private sealed class SecretFiles : IDisposable
    {
        public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("hokusai-secrets-").FullName;

        public string Write(string name, string content)
        {
            var path = Path.Combine(Directory, name);
            File.WriteAllText(path, content);
            return path;
        }

        public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
    }
}
