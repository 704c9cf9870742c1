using System.Reflection;
using Hokusai.Bus.Contracts;
using PublicApiGenerator;

namespace Hokusai.Bus.Tests.Packaging;

/// <summary>
/// The public API of each package, compared with the approved text beside this file. An intended change: copy the
/// <c>.received.txt</c> written next to the approved file over it, and say so in the change.
/// </summary>
public sealed class PublicApiTests
{
    public static TheoryData<string> Packages() =>
    [
        "Hokusai.Bus.Contracts", "Hokusai.Bus", "Hokusai.Bus.Receiver", "Hokusai.Bus.Redis", "Hokusai.Bus.Producer",
        "Hokusai.Bus.Receiver.Redis",
    ];

    [Theory]
    [MemberData(nameof(Packages))]
    public void The_public_api_is_the_approved_one(string package)
    {
        var assembly = package switch
        {
            "Hokusai.Bus.Contracts" => typeof(ModelRegistered).Assembly,
            "Hokusai.Bus" => typeof(HokusaiWebhookOptions).Assembly,
            "Hokusai.Bus.Receiver" => typeof(Hokusai.Bus.Receiver.HokusaiReceiverOptions).Assembly,
            "Hokusai.Bus.Redis" => typeof(HokusaiRedisOptions).Assembly,
            "Hokusai.Bus.Producer" => typeof(ModelRegisteredPublishExtensions).Assembly,
            "Hokusai.Bus.Receiver.Redis" => typeof(Hokusai.Bus.Receiver.HokusaiReceiverRedisExtensions).Assembly,
            _ => Assembly.Load(package),
        };
        var api = assembly.GeneratePublicApi(new ApiGeneratorOptions { ExcludeAttributes = ["System.Runtime.Versioning.TargetFrameworkAttribute", "System.Reflection.AssemblyMetadataAttribute", "System.Runtime.CompilerServices.InternalsVisibleToAttribute"] })
            .ReplaceLineEndings("\n");
        var approvedPath = Repository.File("tests", "Hokusai.Bus.Tests", "Packaging", "approved", $"{package}.approved.txt");
        var receivedPath = Path.ChangeExtension(approvedPath, null).Replace(".approved", ".received", StringComparison.Ordinal) + ".txt";

        var approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath).ReplaceLineEndings("\n") : "";
        if (approved != api)
        {
            File.WriteAllText(receivedPath, api);
        }
        else if (File.Exists(receivedPath))
        {
            File.Delete(receivedPath);
        }

        Assert.True(approved == api,
            $"The public API of {package} changed. If intended, copy {receivedPath} over {approvedPath}.");
    }
}
