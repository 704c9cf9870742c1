using YamlDotNet.RepresentationModel;

namespace Hokusai.Bus.Tests.Packaging;

/// <summary>
/// No docker engine runs here, so the compose file is validated by Debian's docker-compose (<c>config</c>, which needs
/// no engine) and checked against what the host expects: services, ports, the guide's variables, the secret, health
/// checks and the RabbitMQ plugins ops need.
/// </summary>
public sealed class ComposeTests
{
    private static readonly string[] GuideVariables =
    [
        "WEBHOOK_URL", "WEBHOOK_SECRET", "WEBHOOK_TIMEOUT", "WEBHOOK_MAX_RETRIES", "WEBHOOK_RETRY_DELAY",
        "WEBHOOK_CIRCUIT_BREAKER_FAILURE_THRESHOLD", "WEBHOOK_CIRCUIT_BREAKER_RECOVERY_TIME", "ENABLE_REDIS_FALLBACK",
    ];

    private static readonly YamlMappingNode Compose = Load();

    [Fact]
    public void Has_rabbitmq_with_management_redis_the_host_and_a_receiver()
    {
        var services = Map(Compose, "services");
        Assert.Equal(["host", "prometheus", "rabbitmq", "receiver", "redis"], services.Children.Keys.Select(k => k.ToString()).Order());
        Assert.Contains("management", Scalar(Map(services, "rabbitmq"), "image"));
        Assert.Contains(Ports("rabbitmq"), p => p.EndsWith(":5672", StringComparison.Ordinal));
        Assert.Contains(Ports("rabbitmq"), p => p.EndsWith(":15672", StringComparison.Ordinal));
        Assert.Contains(Ports("redis"), p => p.EndsWith(":6379", StringComparison.Ordinal));
    }

    [Fact]
    public void The_host_gets_every_guide_variable_and_the_urls_it_reads()
    {
        var environment = Map(Map(Map(Compose, "services"), "host"), "environment");
        var names = environment.Children.Keys.Select(k => k.ToString()).ToHashSet();

        // The secret as a file (a Docker secret), every other guide variable as a value.
        Assert.All(GuideVariables.Where(v => v != "WEBHOOK_SECRET"), v => Assert.Contains(v, names));
        Assert.DoesNotContain("WEBHOOK_SECRET", names);
        Assert.StartsWith("amqp://", Scalar(environment, "RABBITMQ_URL"));
        Assert.Contains("redis:6379", Scalar(environment, "REDIS_URL"));
        Assert.Equal("http://+:8080", Scalar(environment, "ASPNETCORE_URLS"));
        Assert.Contains(Ports("host"), p => p.EndsWith(":8080", StringComparison.Ordinal));
    }

    [Fact]
    public void Prometheus_runs_under_the_monitoring_profile_with_the_tested_alert_rules_and_rabbitmqs_per_queue_metrics()
    {
        var prometheus = Map(Map(Compose, "services"), "prometheus");
        Assert.Equal(["monitoring"], ((YamlSequenceNode)prometheus.Children[new YamlScalarNode("profiles")]).Children.Select(c => c.ToString()));
        var volumes = ((YamlSequenceNode)prometheus.Children[new YamlScalarNode("volumes")]).Children.Select(c => c.ToString()).ToList();
        Assert.Contains("./prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro", volumes);
        Assert.Contains("rabbitmq_prometheus", File.ReadAllText(Repository.File("compose", "rabbitmq", "enabled_plugins")), StringComparison.Ordinal);
        Assert.Contains("prometheus.return_per_object_metrics = true", File.ReadAllText(Repository.File("compose", "rabbitmq", "rabbitmq.conf")), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_service_has_a_health_check_and_the_host_probes_readiness()
    {
        var services = Map(Compose, "services");
        foreach (var name in new[] { "rabbitmq", "redis", "host" })
        {
            Assert.True(Map(services, name).Children.ContainsKey("healthcheck"), $"{name} has no healthcheck");
        }

        var test = (YamlSequenceNode)Map(Map(services, "host"), "healthcheck").Children[new YamlScalarNode("test")];
        Assert.Contains("http://127.0.0.1:8080/health/ready", test.Children.Select(c => c.ToString()));
    }

    [Fact]
    public void The_secret_is_a_docker_secret_that_the_host_and_the_receiver_read_from_a_file()
    {
        var services = Map(Compose, "services");
        Assert.Equal("./secrets/webhook_secret", Scalar(Map(Map(Compose, "secrets"), "webhook_secret"), "file"));
        foreach (var name in new[] { "host", "receiver" })
        {
            var service = Map(services, name);
            Assert.Equal("/run/secrets/webhook_secret", Scalar(Map(service, "environment"), "WEBHOOK_SECRET_FILE"));
            Assert.Contains("webhook_secret", ((YamlSequenceNode)service.Children[new YamlScalarNode("secrets")]).Children.Select(c => c.ToString()));
        }

        // Plain http:// to the sample receiver needs the explicit allowance; a real endpoint is https.
        Assert.Equal("${WEBHOOK_ALLOW_HTTP:-false}", Scalar(Map(Map(services, "host"), "environment"), "WEBHOOK_ALLOW_HTTP"));
        Assert.Equal("webhook_secret\n", File.ReadAllText(Repository.File("compose", "secrets", ".gitignore")));
    }

    [Fact]
    public void The_env_example_names_every_guide_variable_but_the_secret()
    {
        var lines = File.ReadAllLines(Repository.File("compose", ".env.example"));

        Assert.All(GuideVariables.Where(v => v != "WEBHOOK_SECRET"), v => Assert.Contains(lines, l => l.StartsWith(v + "=", StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, l => l.StartsWith("WEBHOOK_SECRET=", StringComparison.Ordinal));
        Assert.Contains("WEBHOOK_ALLOW_HTTP=true", lines);
    }

    [Fact]
    public void RabbitMQ_gets_the_management_and_shovel_plugins()
    {
        var plugins = File.ReadAllText(Repository.File("compose", "rabbitmq", "enabled_plugins"));

        Assert.Contains("rabbitmq_management", plugins);
        Assert.Contains("rabbitmq_shovel_management", plugins);
    }

    [Fact]
    public void The_host_image_runs_as_non_root_with_a_health_check()
    {
        var dockerfile = File.ReadAllText(Repository.File("src", "Hokusai.Bus.Host", "Dockerfile"));

        Assert.Contains("USER $APP_UID", dockerfile);
        Assert.Contains("HEALTHCHECK", dockerfile);
        Assert.Contains("MASSTRANSIT_USAGE_TELEMETRY=false", dockerfile);
    }

    [Fact]
    public async Task Docker_compose_accepts_the_file_with_the_example_env_and_resolves_what_the_host_gets()
    {
        var start = new System.Diagnostics.ProcessStartInfo("docker-compose")
        {
            WorkingDirectory = Repository.File("compose"),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { "-f", "docker-compose.yml", "--env-file", ".env.example", "config" })
        {
            start.ArgumentList.Add(arg);
        }

        System.Diagnostics.Process process;
        try
        {
            process = System.Diagnostics.Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new InvalidOperationException("docker-compose is not installed: scripts/services.sh start installs Debian's package.");
        }

        using var _ = process;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, "docker-compose config: " + await errors);

        var yaml = new YamlStream();
        yaml.Load(new StringReader(await output));
        var resolved = (YamlMappingNode)yaml.Documents[0].RootNode;
        var host = Map(Map(resolved, "services"), "host");
        var environment = Map(host, "environment");
        Assert.Equal("http://receiver:8090/api/models/ready", Scalar(environment, "WEBHOOK_URL"));
        Assert.Equal("true", Scalar(environment, "WEBHOOK_ALLOW_HTTP"));
        Assert.Equal("/run/secrets/webhook_secret", Scalar(environment, "WEBHOOK_SECRET_FILE"));
        Assert.EndsWith("compose/secrets/webhook_secret", Scalar(Map(Map(resolved, "secrets"), "webhook_secret"), "file"), StringComparison.Ordinal);
    }

    private static IEnumerable<string> Ports(string service) =>
        ((YamlSequenceNode)Map(Map(Compose, "services"), service).Children[new YamlScalarNode("ports")]).Children.Select(c => c.ToString());

    private static YamlMappingNode Map(YamlMappingNode node, string key) => (YamlMappingNode)node.Children[new YamlScalarNode(key)];

    private static string Scalar(YamlMappingNode node, string key) => node.Children[new YamlScalarNode(key)].ToString();

    private static YamlMappingNode Load()
    {
        var yaml = new YamlStream();
        using var reader = new StreamReader(Repository.File("compose", "docker-compose.yml"));
        yaml.Load(reader);
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }
}
