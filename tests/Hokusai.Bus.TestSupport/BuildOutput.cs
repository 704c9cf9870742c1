namespace Hokusai.Bus.TestSupport;

/// <summary>Programs of this repository that tests run as processes, found in their build output.</summary>
public static class BuildOutput
{
    /// <summary>
    /// <c>src/{project}/bin/{configuration}/net10.0/{dll}</c>, where the configuration (Debug or Release) is the one this
    /// test assembly was built in.
    /// </summary>
    public static string Dll(string project, string dll)
    {
        var here = AppContext.BaseDirectory; // .../tests/X/bin/<Configuration>/net10.0/
        var configuration = new DirectoryInfo(here.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var path = Path.Combine(RepositoryRoot, "src", project, "bin", configuration, "net10.0", dll);
        return File.Exists(path) ? path : throw new FileNotFoundException($"Build {project} first: {path}");
    }

    /// <summary>The folder of <c>Hokusai.Bus.sln</c>, above the running test assembly.</summary>
    public static string RepositoryRoot
    {
        get
        {
            var here = AppContext.BaseDirectory;
            var root = here;
            while (!File.Exists(Path.Combine(root, "Hokusai.Bus.sln")))
            {
                root = Path.GetDirectoryName(root.TrimEnd(Path.DirectorySeparatorChar))
                       ?? throw new InvalidOperationException("Hokusai.Bus.sln not found above " + here);
            }

            return root;
        }
    }
}

/// <summary>Loopback ports for the servers tests start.</summary>
public static class LoopbackPort
{
    /// <summary>A port on 127.0.0.1 that nothing listens on right now.</summary>
    public static int Free()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
