using System.Collections.Concurrent;
using Jint;
using Jint.Native;
using Jint.Runtime.Interop;

namespace Usernet.Services.Proxy.Pac;

/// <summary>
/// A compiled PAC script and the one thread that runs it. A Jint engine is not thread-safe,
/// and dnsResolve blocks while a name is looked up, so every FindProxyForURL call is queued to
/// that thread rather than run on the caller's (a pool thread that many connections share).
/// Each call is bounded in time, statements, memory and recursion, so a broken script blocks
/// its connection with a reason instead of hanging the proxy. CLR interop stays off: the
/// script sees strings, numbers and the helpers, nothing of .NET.
/// </summary>
internal sealed class PacScript : IDisposable
{
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    private readonly BlockingCollection<(string Url, string Host, TaskCompletionSource<string> Result)> _calls = new(1024);
    private readonly Thread _thread;
    private readonly Engine _engine;

    private PacScript(Engine engine)
    {
        _engine = engine;
        _thread = new Thread(Run) { IsBackground = true, Name = "pac" };
        _thread.Start();
    }

    /// <summary>Compiles <paramref name="source"/> with the helpers; throws <see cref="PacException"/> saying what is wrong.</summary>
    public static PacScript Compile(string source, IPacHost host)
    {
        var engine = new Engine(options =>
        {
            options.TimeZone = host.TimeZone;
            options.TimeoutInterval(CallTimeout).MaxStatements(10_000_000).LimitMemory(64L * 1024 * 1024).LimitRecursion(256);
        });
        engine.SetValue("dnsResolve", new ClrFunction(engine, "dnsResolve", (_, arguments) =>
            host.DnsResolve(Argument(arguments, 0)) is { } address ? new JsString(address) : JsValue.Null));
        engine.SetValue("myIpAddress", new ClrFunction(engine, "myIpAddress", (_, _) => new JsString(host.MyIpAddress())));
        engine.SetValue("__usernetNow", new ClrFunction(engine, "__usernetNow", (_, _) => new JsNumber(host.Now.ToUnixTimeMilliseconds())));
        try
        {
            engine.Execute(PacLibrary.Source);
            engine.Execute(source);
        }
        catch (Exception e)
        {
            throw new PacException($"the PAC script does not run: {Describe(e)}");
        }
        if (engine.GetValue("FindProxyForURL") is not Jint.Native.Function.Function)
        {
            throw new PacException("the PAC script defines no function FindProxyForURL(url, host)");
        }
        return new PacScript(engine);
    }

    private static string Argument(JsValue[] arguments, int index) => arguments.Length > index ? arguments[index].ToString() : "undefined";

    /// <summary>FindProxyForURL's result; a <see cref="PacException"/> when the script fails or does not return a string.</summary>
    public Task<string> FindProxyAsync(string url, string host)
    {
        var result = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_calls.TryAdd((url, host, result)))
        {
            result.SetException(new PacException("too many PAC evaluations are waiting"));
        }
        return result.Task;
    }

    private void Run()
    {
        try
        {
            foreach (var (url, host, result) in _calls.GetConsumingEnumerable())
            {
                try
                {
                    var value = _engine.Invoke("FindProxyForURL", new JsString(url), new JsString(host));
                    if (value.IsString())
                    {
                        result.SetResult(value.ToString());
                    }
                    else
                    {
                        result.SetException(new PacException($"FindProxyForURL returned {value} rather than a string"));
                    }
                }
                catch (Exception e)
                {
                    result.SetException(new PacException($"FindProxyForURL failed: {Describe(e)}"));
                }
            }
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private static string Describe(Exception e) => e switch
    {
        TimeoutException => $"it ran longer than {CallTimeout.TotalSeconds:0} s",
        Jint.Runtime.StatementsCountOverflowException => "it ran too many statements (an endless loop?)",
        _ => e.Message,
    };

    public void Dispose() => _calls.CompleteAdding();
}
