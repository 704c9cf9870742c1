namespace Hokusai.Bus.Tests.Packaging;

internal static class Repository
{
    /// <summary>The checkout's root (where Hokusai.Bus.sln is), found from the test assembly's folder.</summary>
    public static string Root { get; } = FindRoot();

    public static string File(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        var directory = AppContext.BaseDirectory;
        while (!System.IO.File.Exists(Path.Combine(directory, "Hokusai.Bus.sln")))
        {
            directory = Path.GetDirectoryName(directory.TrimEnd(Path.DirectorySeparatorChar))
                        ?? throw new InvalidOperationException("Hokusai.Bus.sln not found above " + AppContext.BaseDirectory);
        }

        return directory;
    }
}
