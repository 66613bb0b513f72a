using System.Runtime.InteropServices;
using SharpFuzz;
using Usernet.Fuzz.Targets;

namespace Usernet.Fuzz;

/// <summary>
/// Runs a target: as libFuzzer's child (inputs arrive through shared memory, see
/// fuzz/driver/libfuzzer-dotnet.c), or once for each input file, to reproduce a finding.
/// Either way memory is checked now and then: every target starts each input from fresh
/// state, so what it holds between inputs must not grow.
/// </summary>
internal static class TargetRunner
{
    /// <summary>How often the heap is measured (a full collection costs a few milliseconds).</summary>
    private const int MemoryCheckInterval = 20_000;

    /// <summary>Far above what any target needs; a leak of a few bytes per input crosses it within a long run.</summary>
    private const long MemoryBound = 512L * 1024 * 1024;

    private static readonly Dictionary<string, Func<IFuzzTarget>> Targets = new()
    {
        ["frames"] = () => new FrameTarget(),
        ["ndp"] = () => new NdpTarget(),
        ["dns"] = () => new DnsTarget(),
        ["dhcp"] = () => new DhcpTarget(),
        ["dhcp6"] = () => new Dhcpv6Target(),
        ["http"] = () => new HttpTarget(),
        ["socks5"] = () => new Socks5Target(),
        ["pac"] = () => new PacTarget(),
        ["settings"] = () => new SettingsTarget(),
        ["control"] = () => new ControlTarget(),
    };

    private static long s_inputs;

    public static int List()
    {
        foreach (string name in Targets.Keys)
        {
            Console.WriteLine(name);
        }
        return 0;
    }

    public static unsafe int Run(string name, string[] paths)
    {
        // Instrumented code marks the coverage map on every branch from the first on: until
        // libFuzzer's shared map is there (and when it never is), it marks this one.
        SharpFuzz.Common.Trace.SharedMem = (byte*)NativeMemory.AllocZeroed(1 << 16);
        if (!Targets.TryGetValue(name, out var make))
        {
            Console.Error.WriteLine($"no target {name}; the targets are {string.Join(", ", Targets.Keys)}");
            return 2;
        }
        // Usernet logs to stderr; a fuzz run would print nothing else.
        Log.Level = LogLevel.Error;
        var target = make();
        if (Environment.GetEnvironmentVariable("__LIBFUZZER_SHM_ID") is not null)
        {
            Fuzzer.LibFuzzer.Run(input => RunOne(target, input));
            return 0;
        }
        return Replay(target, paths);
    }

    private static void RunOne(IFuzzTarget target, ReadOnlySpan<byte> input)
    {
        target.Run(input);
        if (++s_inputs % MemoryCheckInterval == 0)
        {
            long heap = GC.GetTotalMemory(forceFullCollection: true);
            PropertyException.Check(heap < MemoryBound, $"the heap holds {heap / (1024 * 1024)} MiB after {s_inputs} inputs");
        }
    }

    private static int Replay(IFuzzTarget target, string[] paths)
    {
        var files = paths.SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p).Order() : (IEnumerable<string>)[p]).ToList();
        if (files.Count == 0)
        {
            Console.Error.WriteLine("no inputs given (under libFuzzer the driver provides them)");
            return 2;
        }
        foreach (string file in files)
        {
            RunOne(target, File.ReadAllBytes(file));
        }
        Console.Error.WriteLine($"{files.Count} inputs ran without a finding");
        return 0;
    }
}
