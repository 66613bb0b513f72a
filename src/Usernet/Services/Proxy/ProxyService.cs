using System.Net;
using Usernet.Config;
using Usernet.Platform;
using Usernet.Services.Proxy.Pac;
using Usernet.Wire;

namespace Usernet.Services.Proxy;

/// <summary>What a reload did: applied or refused, the sections that changed, and the errors that refused it.</summary>
internal sealed record ProxyReloadResult(bool Applied, IReadOnlyList<string> Changed, IReadOnlyList<string> Errors);

/// <summary>
/// The proxy policy in force and its hot reload. The settings file is looked at every second;
/// SIGHUP and <c>usernet proxy reload</c> (POST /proxy/reload) reload at once. New settings
/// that do not load are refused with the reason, and the old ones stay. When the proxy
/// sections changed, the new policy is swapped in: connections opened from then on use it,
/// and those already open, tunnels above all, go on as they are. Sections registered with
/// <see cref="ApplyLive"/> (egress) are applied the same way; others need a restart, which the
/// log says.
/// </summary>
internal sealed class ProxyService : IDisposable
{
    /// <summary>How often the settings files are looked at for changes.</summary>
    public static readonly TimeSpan WatchInterval = TimeSpan.FromSeconds(1);

    private readonly SettingsPaths? _paths;
    private readonly IReadOnlyList<SettingOverride> _flags;
    private readonly IPacHost _pacHost;
    private readonly ResolvedNames _names;
    private readonly Lock _reloadGate = new();
    private readonly CancellationTokenSource _stop = new();
    private volatile ProxyPolicy _policy;
    private Settings _settings;
    private (DateTime, long) _userStamp;
    private (DateTime, long) _adminStamp;
    private Task? _watch;

    public ProxyService(Settings settings, SettingsPaths? paths, IReadOnlyList<SettingOverride> flags, IPacHost pacHost, ResolvedNames names)
    {
        _settings = settings;
        _paths = paths;
        _flags = flags;
        _pacHost = pacHost;
        _names = names;
        _policy = ProxyPolicy.Build(settings, pacHost, Environment.GetEnvironmentVariable);
        if (paths is not null)
        {
            _userStamp = Stamp(paths.UserFile);
            _adminStamp = Stamp(paths.AdminFile);
        }
        Log.Info($"proxy: {Describe(_policy)}");
    }

    public ProxyPolicy Policy => _policy;

    private readonly Dictionary<SettingsSection, Action<Settings>> _live = new();

    /// <summary>
    /// Makes <paramref name="section"/> one that a reload applies at once, by calling
    /// <paramref name="apply"/> with the new settings when it changed (the egress policy is).
    /// Register before <see cref="StartWatching"/>.
    /// </summary>
    public void ApplyLive(SettingsSection section, Action<Settings> apply) => _live[section] = apply;

    /// <summary>Raised with the errors of a reload that was refused (the settings in force stay).</summary>
    public event Action<IReadOnlyList<string>>? ReloadRefused;

    public ProxyCounters Counters { get; } = new();

    /// <summary>Whether the guest connection to <paramref name="remote"/> goes to the transparent proxy; on the loop thread, so cheap.</summary>
    public bool WantsTransparent(IpEndpoint remote, IpEndpoint destination)
    {
        var policy = _policy;
        if (policy.TransparentPorts.IsEmpty || destination.Address.IsLoopback)
        {
            return false;
        }
        var address = remote.Address.ToIPAddress();
        return policy.MayProxy(address, _names.Find(address), remote.Port);
    }

    public void StartWatching()
    {
        if (_paths is not null)
        {
            _watch = Task.Run(WatchAsync);
        }
    }

    private async Task WatchAsync()
    {
        using var timer = new PeriodicTimer(WatchInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                var user = Stamp(_paths!.UserFile);
                var admin = Stamp(_paths.AdminFile);
                if (user != _userStamp || admin != _adminStamp)
                {
                    _userStamp = user;
                    _adminStamp = admin;
                    Reload("the settings file changed");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static (DateTime, long) Stamp(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1);
    }

    /// <summary>Reads the settings again and applies the proxy sections; <paramref name="why"/> is for the log.</summary>
    public ProxyReloadResult Reload(string why)
    {
        lock (_reloadGate)
        {
            if (_paths is null)
            {
                return new ProxyReloadResult(false, [], ["this instance has no settings file to reload"]);
            }
            var result = SettingsLoader.LoadFromSystem(_paths, _flags);
            if (!result.Succeeded)
            {
                Interlocked.Increment(ref Counters.ReloadsRefused);
                var errors = result.Errors.Select(e => e.ToString()).ToList();
                Log.Error($"settings reload ({why}) refused, the settings in force stay: {string.Join("; ", errors)}");
                ReloadRefused?.Invoke(errors);
                return new ProxyReloadResult(false, [], errors);
            }
            var settings = result.Settings;
            var changed = settings.ChangedSections(_settings);
            var names = changed.Select(SectionName).Order().ToList();
            if (changed.Contains(SettingsSection.Proxy) || changed.Contains(SettingsSection.ContainersProxy))
            {
                var old = _policy;
                _policy = ProxyPolicy.Build(settings, _pacHost, Environment.GetEnvironmentVariable);
                Interlocked.Increment(ref Counters.Reloads);
                Log.Info($"settings reloaded ({why}): proxy: {Describe(_policy)}");
                // Connections that chose their route under the old policy may still ask its PAC thread.
                _ = Task.Delay(TimeSpan.FromSeconds(30)).ContinueWith(_ => old.Dispose(), TaskScheduler.Default);
            }
            foreach (var section in changed.Where(_live.ContainsKey))
            {
                _live[section](settings);
                Log.Info($"settings reloaded ({why}): the {SectionName(section)} settings are in force");
            }
            foreach (var section in changed.Where(s => s is not (SettingsSection.Proxy or SettingsSection.ContainersProxy) && !_live.ContainsKey(s)))
            {
                Log.Warn($"settings reloaded ({why}): the {SectionName(section)} settings changed and take effect at the next start");
            }
            _settings = settings;
            return new ProxyReloadResult(true, names, []);
        }
    }

    private static string SectionName(SettingsSection section) => section switch
    {
        SettingsSection.ContainersProxy => "containersProxy",
        _ => section.ToString().ToLowerInvariant(),
    };

    /// <summary>The policy in one line, passwords masked.</summary>
    public static string Describe(ProxyPolicy policy)
    {
        if (policy.PacError is not null)
        {
            return $"{policy.Section}: {policy.Source} unusable, everything blocked ({policy.PacError})";
        }
        if (policy.Pac is not null)
        {
            return $"{policy.Section}: {policy.Source}; transparent ports {Ports(policy)}";
        }
        return $"{policy.Section}: {policy.Source}; http {(object?)policy.Http ?? "direct"}, https {(object?)policy.Https ?? "direct"}; transparent ports {Ports(policy)}";
    }

    private static string Ports(ProxyPolicy policy) => policy.TransparentPorts.IsEmpty ? "none" : policy.TransparentPorts.ToString();

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _watch?.Wait(TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
        }
        _policy.Dispose();
    }
}
