// Hokusai.Bus benchmarks (issue 6).
//
//   dotnet run -c Release --project tests/Hokusai.Bus.Benchmarks -- e2e [--full] [options]   end to end, see E2eOptions
//   dotnet run -c Release --project tests/Hokusai.Bus.Benchmarks -- micro [BenchmarkDotNet args]
//   dotnet run -c Release --project tests/Hokusai.Bus.Benchmarks -- scale [--count N]   1 host against 2 on the cluster
//
// scripts/bench.sh builds Release, starts RabbitMQ if needed and runs `e2e`.
using Hokusai.Bus.Benchmarks;
using Hokusai.Bus.Benchmarks.Micro;

switch (args)
{
    case ["bridge", .. var rest]:
        return await RawBridge.ServeAsync(rest);
    case ["ingest-floor", .. var rest]:
        return await IngestFloor.ServeAsync(rest);
    case ["floor-consumer", .. var rest]:
        return await MassTransitFloor.ServeAsync(rest);
    case ["floor", .. var rest]:
        return await FloorBenchmark.RunAsync([.. rest]);
    case ["scale", .. var rest]:
        return await ScaleBenchmark.RunAsync([.. rest]);
    case ["deliverylog", .. var rest]:
        return await DeliveryLogBenchmark.RunAsync([.. rest]);
    case ["ingest", .. var rest]:
        return await IngestBenchmark.RunAsync([.. rest]);
    case ["micro", .. var rest]:
        MicroBenchmarks.Run(rest);
        return 0;
    case ["e2e", .. var rest]:
        E2eOptions options;
        try
        {
            options = E2eOptions.Parse(rest);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(E2eOptions.Usage);
            return 2;
        }

        if (options.Help)
        {
            Console.WriteLine(E2eOptions.Usage);
            return 0;
        }

        return await E2eBenchmark.RunAsync(options);
    default:
        Console.Error.WriteLine("usage: Hokusai.Bus.Benchmarks e2e [--full] [options] | micro [BenchmarkDotNet args]");
        Console.Error.WriteLine(E2eOptions.Usage);
        return 2;
}
