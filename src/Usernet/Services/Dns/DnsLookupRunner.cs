namespace Usernet.Services.Dns;

/// <summary>
/// Runs the resolver's lookups on the thread pool, getaddrinfo and upstream sockets alike, and
/// posts each result back to the loop thread.
/// </summary>
internal sealed class DnsLookupRunner : IDnsLookupSource
{
    private readonly Action<Action<Instant>> _post;
    private readonly HostNameResolver _host;
    private readonly DnsForwarder _forwarder;
    private readonly TimeSpan _timeout;

    public DnsLookupRunner(Action<Action<Instant>> post, HostNameResolver host, DnsForwarder forwarder, TimeSpan timeout)
    {
        _post = post;
        _host = host;
        _forwarder = forwarder;
        _timeout = timeout;
    }

    public void ResolveOnHost(DnsLookup lookup, DnsResolver resolver)
    {
        string name = lookup.Text;
        _ = Task.Run(async () =>
        {
            var result = HostLookupResult.Of(HostLookupStatus.Failed);
            try
            {
                using var cancel = new CancellationTokenSource(_timeout);
                result = await _host.ResolveAsync(name, lookup.Type, cancel.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                Log.WarnLimited("dns-host", $"host lookup of {name} failed: {e.Message}");
            }
            _post(now => resolver.CompleteHost(lookup, result, now));
        });
    }

    public void Forward(DnsLookup lookup, DnsResolver resolver)
    {
        _ = Task.Run(async () =>
        {
            byte[]? response = null;
            try
            {
                using var cancel = new CancellationTokenSource(_timeout);
                response = await _forwarder.ForwardAsync(lookup.Name, lookup.Type, lookup.Servers, cancel.Token).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                Log.WarnLimited("dns-forward", $"forwarding {lookup.Text} failed: {e.Message}");
            }
            _post(now => resolver.CompleteForward(lookup, response, now));
        });
    }
}
