namespace Usernet.Fuzz;

/// <summary>
/// The fuzz targets of Usernet, run by libFuzzer through libfuzzer-dotnet (see fuzz/run), and
/// the step that instruments usernet.dll for them. Main names no Usernet type, so that
/// <c>instrument</c> rewrites usernet.dll before anything has loaded it.
/// </summary>
internal static class Program
{
    private const string Usage = """
        usage: Usernet.Fuzz instrument ASSEMBLY     add SharpFuzz's branch coverage to ASSEMBLY, in place
               Usernet.Fuzz list                    the targets
               Usernet.Fuzz TARGET                  serve libFuzzer (under libfuzzer-dotnet)
               Usernet.Fuzz TARGET PATH...          run each input file (or every file of a directory) once
        """;

    public static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }
        return args[0] switch
        {
            "instrument" when args.Length == 2 => Instrumentation.Run(args[1]),
            "list" => TargetRunner.List(),
            "-h" or "--help" or "help" => Help(),
            _ => TargetRunner.Run(args[0], args[1..]),
        };
    }

    private static int Help()
    {
        Console.WriteLine(Usage);
        return 0;
    }
}
