using System.Diagnostics;
using Jint;
using Jint.Native;
using Jint.Runtime.Interop;

namespace Usernet.Services.Proxy.Pac;

/// <summary>
/// One Jint engine with the PAC script and its helpers loaded: a worker of <see cref="PacScript"/>,
/// used by one thread at a time (an engine is not thread-safe). Each call is bounded in time
/// (<see cref="PacScript.CallTimeout"/>), statements, memory and recursion, and a dnsResolve
/// waits for its lookup only as long as the call has left. CLR interop stays off: the script
/// sees strings, numbers and the helpers, nothing of .NET.
/// </summary>
internal sealed class PacEvaluator
{
    /// <summary>Memory one call may allocate: four workers together may take what one engine was once allowed.</summary>
    public const long MemoryLimit = 16L * 1024 * 1024;

    private readonly Engine _engine;
    private long _deadline;

    private PacEvaluator(string source, IPacHost host, PacLookups lookups)
    {
        _engine = new Engine(options =>
        {
            options.TimeZone = host.TimeZone;
            options.TimeoutInterval(PacScript.CallTimeout).MaxStatements(10_000_000).LimitMemory(MemoryLimit).LimitRecursion(256);
        });
        _engine.SetValue("dnsResolve", new ClrFunction(_engine, "dnsResolve", (_, arguments) =>
            lookups.DnsResolve(Argument(arguments, 0), TimeLeft) is { } address ? new JsString(address) : JsValue.Null));
        _engine.SetValue("myIpAddress", new ClrFunction(_engine, "myIpAddress", (_, _) => new JsString(lookups.MyIpAddress())));
        _engine.SetValue("__usernetNow", new ClrFunction(_engine, "__usernetNow", (_, _) => new JsNumber(host.Now.ToUnixTimeMilliseconds())));
        _engine.Execute(PacLibrary.Source);
        _engine.Execute(source);
    }

    /// <summary>Loads <paramref name="source"/> into a new engine; throws <see cref="PacException"/> saying what is wrong.</summary>
    public static PacEvaluator Create(string source, IPacHost host, PacLookups lookups)
    {
        PacEvaluator evaluator;
        try
        {
            evaluator = new PacEvaluator(source, host, lookups);
        }
        catch (Exception e)
        {
            throw new PacException($"the PAC script does not run: {Describe(e)}");
        }
        if (evaluator._engine.GetValue("FindProxyForURL") is not Jint.Native.Function.Function)
        {
            throw new PacException("the PAC script defines no function FindProxyForURL(url, host)");
        }
        return evaluator;
    }

    /// <summary>What is left of the current call's time, for a lookup to wait.</summary>
    private TimeSpan TimeLeft => Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _deadline) is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero;

    /// <summary>FindProxyForURL's result; a <see cref="PacException"/> when the script fails or does not return a string.</summary>
    public string FindProxy(string url, string host)
    {
        _deadline = Stopwatch.GetTimestamp() + (long)(PacScript.CallTimeout.TotalSeconds * Stopwatch.Frequency);
        JsValue value;
        try
        {
            value = _engine.Invoke("FindProxyForURL", new JsString(url), new JsString(host));
        }
        catch (Exception e)
        {
            throw new PacException($"FindProxyForURL failed: {Describe(e)}");
        }
        return value.IsString() ? value.ToString() : throw new PacException($"FindProxyForURL returned {value} rather than a string");
    }

    private static string Argument(JsValue[] arguments, int index) => arguments.Length > index ? arguments[index].ToString() : "undefined";

    private static string Describe(Exception e) => e switch
    {
        TimeoutException => $"it ran longer than {PacScript.CallTimeout.TotalSeconds:0} s",
        Jint.Runtime.StatementsCountOverflowException => "it ran too many statements (an endless loop?)",
        _ => e.Message,
    };
}
