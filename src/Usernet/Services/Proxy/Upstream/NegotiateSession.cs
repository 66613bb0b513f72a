using System.Net;
using System.Net.Security;

namespace Usernet.Services.Proxy.Upstream;

/// <summary>
/// Negotiate (Kerberos, RFC 4559) or NTLM towards an upstream proxy through .NET's
/// NegotiateAuthentication, which on Linux calls the host's GSSAPI (libgssapi_krb5.so.2;
/// NTLM also needs the gss-ntlmssp mechanism). Without a user in the proxy URL the default
/// credentials are used: the Kerberos ticket of the user Usernet runs as (kinit).
/// </summary>
internal sealed class NegotiateSession : IDisposable
{
    private const string HostNeeds = "Negotiate and NTLM need the host's GSSAPI: libgssapi-krb5-2 and a Kerberos ticket (kinit) for Negotiate, gss-ntlmssp and a user and password in the proxy URL for NTLM";

    private readonly NegotiateAuthentication _authentication;

    /// <summary>The proxy's host name when the exchange is Kerberos (Negotiate with the default credentials), else null.</summary>
    private readonly string? _kerberosHost;

    private NegotiateSession(string scheme, NegotiateAuthentication authentication, string? kerberosHost)
    {
        Scheme = scheme;
        _authentication = authentication;
        _kerberosHost = kerberosHost;
    }

    /// <summary>"Negotiate" or "NTLM", as the Proxy-Authorization field names it.</summary>
    public string Scheme { get; }

    public static NegotiateSession Start(string scheme, string proxyHost, string? user, string? password)
    {
        try
        {
            var authentication = new NegotiateAuthentication(new NegotiateAuthenticationClientOptions
            {
                Package = scheme,
                Credential = user is null ? CredentialCache.DefaultNetworkCredentials : new NetworkCredential(user, password ?? ""),
                TargetName = "HTTP/" + proxyHost,
            });
            return new NegotiateSession(scheme, authentication, scheme == "Negotiate" && user is null ? proxyHost : null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ProxyException(502, $"{scheme} authentication cannot start on this host ({e.GetType().Name}: {e.Message}); {HostNeeds}",
                $"{scheme} authentication cannot start on this host; {HostNeeds}");
        }
    }

    /// <summary>The next token for the Proxy-Authorization field, from the proxy's last one (null at first).</summary>
    public string Next(string? challenge)
    {
        byte[]? incoming = string.IsNullOrEmpty(challenge) ? null : Convert.FromBase64String(challenge);
        byte[]? outgoing;
        NegotiateAuthenticationStatusCode status;
        try
        {
            outgoing = _authentication.GetOutgoingBlob(incoming, out status);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ProxyException(502, $"{Scheme} authentication failed on this host ({e.GetType().Name}: {e.Message}); {HostNeeds}",
                $"{Scheme} authentication failed on this host; {HostNeeds}");
        }
        if (status is not (NegotiateAuthenticationStatusCode.Completed or NegotiateAuthenticationStatusCode.ContinueNeeded) || outgoing is null)
        {
            if (_kerberosHost is not null && incoming is null && KerberosDiagnosis.Diagnose(_kerberosHost) is { } finding)
            {
                throw new ProxyException(502, $"{Scheme} authentication with the upstream proxy failed on this host ({status}): Kerberos says: {finding.Detail}",
                    finding.GuestMessage);
            }
            throw new ProxyException(502, $"{Scheme} authentication with the upstream proxy failed on this host ({status}); {HostNeeds}");
        }
        return Scheme + " " + Convert.ToBase64String(outgoing);
    }

    public void Dispose() => _authentication.Dispose();
}
