using Usernet.Platform.Interop;

namespace Usernet.Services.Proxy.Upstream;

/// <summary>
/// Why Kerberos cannot make a token for HTTP/<c>host</c> on this host, in MIT's own words and as
/// the failure a user can fix: no ticket, an expired ticket, or a service principal the KDC does
/// not know (a proxy named by an address or an alias). It is one gss_init_sec_context of the
/// Kerberos mechanism with the default credentials, asked only after .NET's exchange has
/// failed, since .NET reports no more than "GenericFailure".
/// </summary>
internal static unsafe class KerberosDiagnosis
{
    /// <summary>MIT's com_err codes (krb5_err.et, base -1765328384) that the minor status carries.</summary>
    private const uint ServerUnknown = unchecked((uint)-1765328377);
    private const uint TicketExpired = unchecked((uint)-1765328352);
    private const uint NoCacheFile = unchecked((uint)-1765328189);
    private const uint CredentialNotFound = unchecked((uint)-1765328243);

    /// <summary>What the log says (MIT's words) and what the guest is told (no proxy name).</summary>
    public readonly record struct Finding(string Detail, string GuestMessage);

    /// <summary>The finding for HTTP/<paramref name="host"/>; null when Kerberos now succeeds, or GSSAPI cannot be asked.</summary>
    public static Finding? Diagnose(string host)
    {
        try
        {
            return Ask(host);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    private static Finding? Ask(string host)
    {
        // GSS_C_NT_HOSTBASED_SERVICE (1.2.840.113554.1.2.1.4) and Kerberos V5 (1.2.840.113554.1.2.2).
        byte* hostBased = stackalloc byte[] { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x01, 0x04 };
        byte* kerberos = stackalloc byte[] { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02 };
        var nameType = new Gssapi.Oid { Length = 10, Elements = hostBased };
        var mechanism = new Gssapi.Oid { Length = 9, Elements = kerberos };
        byte[] service = System.Text.Encoding.ASCII.GetBytes("HTTP@" + host);
        uint minor;
        nint name = 0;
        nint context = 0;
        fixed (byte* text = service)
        {
            var buffer = new Gssapi.Buffer { Length = (nuint)service.Length, Value = text };
            if (Gssapi.ImportName(&minor, &buffer, &nameType, &name) != 0)
            {
                return null;
            }
        }
        try
        {
            var output = default(Gssapi.Buffer);
            uint flags, lifetime;
            uint major = Gssapi.InitSecContext(&minor, 0, &context, name, &mechanism, 0, 0, 0, null, null, &output, &flags, &lifetime);
            uint released;
            Gssapi.ReleaseBuffer(&released, &output);
            if ((major & Gssapi.RoutineErrorMask) == 0)
            {
                return null;
            }
            string detail = $"{Describe(major, Gssapi.GssCode, null)}: {Describe(minor, Gssapi.MechanismCode, &mechanism)}";
            uint routine = major & Gssapi.RoutineErrorMask;
            string guest = (routine, minor) switch
            {
                (_, ServerUnknown) => "the KDC knows no service principal HTTP/ for the upstream proxy's name in the settings:"
                    + " name the proxy as its principal is named (not by an address or an alias)",
                (Gssapi.CredentialsExpired, _) or (_, TicketExpired) => "the host's Kerberos ticket has expired: run kinit (or kinit -R) as the user Usernet runs as",
                (Gssapi.NoCredentials, _) or (_, NoCacheFile) or (_, CredentialNotFound) =>
                    "there is no Kerberos ticket on the host: run kinit as the user Usernet runs as (with the KRB5CCNAME Usernet has)",
                _ => "Kerberos failed on this host (Usernet's log says why)",
            };
            return new Finding(detail, guest);
        }
        finally
        {
            if (context != 0)
            {
                Gssapi.DeleteSecContext(&minor, &context, null);
            }
            Gssapi.ReleaseName(&minor, &name);
        }
    }

    /// <summary>gss_display_status's text for one status: a major status's routine error, or a minor status in the mechanism's words.</summary>
    private static string Describe(uint status, int type, Gssapi.Oid* mechanism)
    {
        uint minor;
        uint context = 0;
        var text = default(Gssapi.Buffer);
        if (Gssapi.DisplayStatus(&minor, status, type, mechanism, &context, &text) != 0 || text.Value is null)
        {
            return $"status {status:x8}";
        }
        try
        {
            return System.Text.Encoding.UTF8.GetString(text.Value, (int)text.Length);
        }
        finally
        {
            Gssapi.ReleaseBuffer(&minor, &text);
        }
    }
}
