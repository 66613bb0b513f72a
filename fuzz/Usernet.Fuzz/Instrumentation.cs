using SharpFuzz;

namespace Usernet.Fuzz;

/// <summary>
/// Rewrites an assembly so that each of its branches marks SharpFuzz's coverage map, which
/// libfuzzer-dotnet hands to libFuzzer. Only usernet.dll is instrumented: the targets steer
/// by Usernet's own branches, not by those of the runtime or of Jint.
/// </summary>
internal static class Instrumentation
{
    public static int Run(string path)
    {
        try
        {
            int types = Fuzzer.Instrument(path, _ => true, Options.Value).Count();
            Console.Error.WriteLine($"instrumented {types} types of {path}");
            return 0;
        }
        catch (InstrumentationException e) when (e.Message.Contains("already instrumented", StringComparison.Ordinal))
        {
            // An incremental build left the instrumented copy in place.
            return 0;
        }
        catch (InstrumentationException e)
        {
            Console.Error.WriteLine($"{path}: {e.Message}");
            return 1;
        }
    }
}
