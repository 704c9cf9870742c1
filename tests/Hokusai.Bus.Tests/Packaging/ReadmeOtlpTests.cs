using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using YamlDotNet.RepresentationModel;

namespace Hokusai.Bus.Tests.Packaging;

/// <summary>
/// The OTLP settings and collector configuration of docs/OPERATIONS.md, read as written: the variables are the ones
/// <c>TelemetryTests</c> runs the host with, and the collector selects metrics the plugin's meter really has.
/// </summary>
public sealed class ReadmeOtlpTests
{
    private static readonly string[] Section = ReadSection();

    [Fact]
    public void The_settings_block_names_the_exporters_variables_and_the_collectors_http_port()
    {
        var settings = Block("bash").Select(l => l.Split('#')[0].Trim()).Where(l => l.Length > 0)
            .ToDictionary(l => l[..l.IndexOf('=')], l => l[(l.IndexOf('=') + 1)..]);

        Assert.Equal(["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_SERVICE_NAME", "OTEL_METRIC_EXPORT_INTERVAL"], settings.Keys);
        Assert.Equal("http/protobuf", settings["OTEL_EXPORTER_OTLP_PROTOCOL"]);
        Assert.Equal(4318, new Uri(settings["OTEL_EXPORTER_OTLP_ENDPOINT"]).Port);
        Assert.Contains("\"hokusai-bus-host\"", File.ReadAllText(Repository.File("src", "Hokusai.Bus.Host", "HostTelemetry.cs")));
    }

    [Fact]
    public void The_collector_listens_on_that_port_and_selects_the_guides_four_metrics_which_the_meter_has()
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(string.Join('\n', Block("yaml"))));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        var http = Map(Map(Map(Map(root, "receivers"), "otlp"), "protocols"), "http");
        Assert.EndsWith(":4318", http.Children[new YamlScalarNode("endpoint")].ToString(), StringComparison.Ordinal);
        var declaration = (YamlMappingNode)((YamlSequenceNode)Map(Map(root, "exporters"), "awsemf").Children[new YamlScalarNode("metric_declarations")]).Children[0];
        var selected = ((YamlSequenceNode)declaration.Children[new YamlScalarNode("metric_name_selectors")]).Children.Select(c => c.ToString()).ToList();

        Assert.Equal(["webhook_publish_success", "webhook_publish_failure", "webhook_retry_count", "webhook_circuit_breaker_state"], selected);
        Assert.All(selected, name => Assert.Contains(name, InstrumentNames()));
    }

    /// <summary>The instruments the plugin's meter publishes, as a MeterListener sees them.</summary>
    private static HashSet<string> InstrumentNames()
    {
        var names = new HashSet<string>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == HokusaiNames.MeterName)
                {
                    names.Add(instrument.Name);
                }
            },
        };
        listener.Start();
        var services = new ServiceCollection().AddMetrics().AddSingleton<HokusaiBusMetrics>();
        using var provider = services.BuildServiceProvider();
        _ = provider.GetRequiredService<HokusaiBusMetrics>();
        return names;
    }

    private static YamlMappingNode Map(YamlMappingNode node, string key) => (YamlMappingNode)node.Children[new YamlScalarNode(key)];

    private static IEnumerable<string> Block(string language) =>
        Section.SkipWhile(l => l != "```" + language).Skip(1).TakeWhile(l => l != "```");

    private static string[] ReadSection() =>
        [.. File.ReadLines(Repository.File("docs", "OPERATIONS.md")).SkipWhile(l => l != "### OTLP export (CloudWatch) and traces").Skip(1)
            .TakeWhile(l => !l.StartsWith("## ", StringComparison.Ordinal))];
}
