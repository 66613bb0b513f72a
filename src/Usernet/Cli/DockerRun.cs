using System.Runtime.InteropServices;
using Usernet.Netns;
using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Services.Docker;

namespace Usernet.Cli;

/// <summary>
/// A running <c>usernet docker</c> once its guest is up: serving the API when the daemon first
/// answers, stopping the daemon on SIGINT or SIGTERM (a second signal, or the stop limit, ends
/// the namespace at once), and saying how it ended. Starting -> Serving -> Stopping -> Ended.
/// </summary>
internal sealed class DockerRun
{
    private readonly Instance _instance;
    private readonly GuestNamespace _guest;
    private readonly DockerApiProxy _proxy;
    private readonly ContainerPorts _ports;
    private readonly ContainerNetworks _networks;
    private readonly DockerDataRoot _dataRoot;
    private readonly string? _cli;
    private readonly TimeSpan _stopLimit;
    private readonly CancellationTokenSource _cancel = new();
    private readonly LoopTimer _stopTimer;
    private Task? _ready;
    private Task? _events;
    private int _stopRequests;
    private int? _daemonStatus;
    private bool _killed;

    /// <summary>Call on the loop's thread, before it runs.</summary>
    public DockerRun(Instance instance, GuestNamespace guest, DockerApiProxy proxy, ContainerPorts ports, ContainerNetworks networks, DockerDataRoot dataRoot, string? cli, TimeSpan stopLimit)
    {
        _networks = networks;
        _instance = instance;
        _guest = guest;
        _proxy = proxy;
        _ports = ports;
        _dataRoot = dataRoot;
        _cli = cli;
        _stopLimit = stopLimit;
        _stopTimer = instance.Loop.CreateTimer(_ =>
        {
            Console.Error.WriteLine($"usernet: dockerd did not stop within {_stopLimit.TotalSeconds:0} s: ending its namespace");
            Kill();
        });
    }

    /// <summary>The guest's init exited, with dockerd's status: the run is over.</summary>
    public void OnDaemonExit(int status)
    {
        _daemonStatus = status;
        _instance.Stop();
    }

    /// <summary>SIGINT and SIGTERM stop dockerd; SIGHUP reloads Usernet's settings and dockerd's daemon.json.</summary>
    public IDisposable HandleSignals() => new SignalHandlers(
    [
        PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; RequestStop(); }),
        PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; RequestStop(); }),
        PosixSignalRegistration.Create(PosixSignal.SIGHUP, c =>
        {
            c.Cancel = true;
            _guest.Signal(Libc.SIGHUP);
            Task.Run(() => _instance.Proxy.Reload("SIGHUP"));
        }),
    ]);

    /// <summary>
    /// The first request sends dockerd SIGTERM, which stops the containers with their stop
    /// timeouts and exits; the namespace then ends with it. A second request ends it at once.
    /// </summary>
    public void RequestStop()
    {
        if (Interlocked.Increment(ref _stopRequests) == 1)
        {
            Console.Error.WriteLine($"usernet: stopping dockerd (containers get their stop timeout; at most {_stopLimit.TotalSeconds:0} s in all)");
            _guest.Signal(Libc.SIGTERM);
            _instance.Loop.Post(now => _stopTimer.Schedule(now + _stopLimit));
        }
        else
        {
            Console.Error.WriteLine("usernet: stopping at once");
            Kill();
        }
    }

    private void Kill()
    {
        _killed = true;
        Libc.Kill(_guest.InitPid, Libc.SIGKILL);
    }

    /// <summary>Waits (off the loop) for the daemon's first answer, then serves the API and follows the daemon's events.</summary>
    public void ServeWhenReady(TimeSpan limit) => _ready = Task.Run(() => ServeWhenReadyAsync(limit));

    private async Task ServeWhenReadyAsync(TimeSpan limit)
    {
        var cancel = _cancel.Token;
        long deadline = Environment.TickCount64 + (long)limit.TotalMilliseconds;
        try
        {
            while (!await _ports.Daemon.PingAsync(cancel).ConfigureAwait(false))
            {
                if (Environment.TickCount64 > deadline)
                {
                    Console.Error.WriteLine($"usernet: dockerd did not answer within {limit.TotalSeconds:0} s (its log: {_dataRoot.LogPath})");
                    RequestStop();
                    return;
                }
                await Task.Delay(100, cancel).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }
        _proxy.Start();
        _events = new DockerEventWatcher(_ports, _networks).RunAsync(cancel);
        Console.Out.WriteLine($"export DOCKER_HOST=unix://{_proxy.SocketPath}");
        Console.Error.WriteLine($"usernet: dockerd is ready (data root {_dataRoot.Path}, log {_dataRoot.LogPath})");
        if (_cli is not null)
        {
            string? error = DockerContext.Point(_cli, _proxy.SocketPath);
            Console.Error.WriteLine(error is null
                ? $"usernet: the docker context '{DockerContext.Name}' points there too (docker context use {DockerContext.Name})"
                : $"usernet: {error}");
        }
    }

    /// <summary>After the loop: stops serving and publishing, and returns the exit status, saying why when it is not 0.</summary>
    public int Finish()
    {
        _cancel.Cancel();
        _proxy.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5));
        // The watcher's last step runs on the loop, which has stopped: it is not waited for long.
        _ready?.Wait(TimeSpan.FromSeconds(5));
        _events?.Wait(TimeSpan.FromSeconds(1));
        _instance.DisposeAsync().AsTask().Wait();
        int status = _daemonStatus ?? 1;
        if (_killed)
        {
            return 1;
        }
        if (_stopRequests > 0 && status == 0)
        {
            Console.Error.WriteLine("usernet: dockerd stopped");
            return 0;
        }
        Console.Error.WriteLine($"usernet: dockerd exited with status {status}; the end of its log ({_dataRoot.LogPath}):");
        Console.Error.WriteLine(_dataRoot.LogTail(15));
        return status == 0 ? 1 : status;
    }
}
