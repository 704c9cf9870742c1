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
        var root = here;
        while (!File.Exists(Path.Combine(root, "Hokusai.Bus.sln")))
        {
            root = Path.GetDirectoryName(root.TrimEnd(Path.DirectorySeparatorChar))
                   ?? throw new InvalidOperationException("Hokusai.Bus.sln not found above " + here);
        }

        var path = Path.Combine(root, "src", project, "bin", configuration, "net10.0", dll);
        return File.Exists(path) ? path : throw new FileNotFoundException($"Build {project} first: {path}");
    }
}
