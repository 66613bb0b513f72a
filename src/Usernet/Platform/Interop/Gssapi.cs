using System.Runtime.InteropServices;

namespace Usernet.Platform.Interop;

/// <summary>
/// The few GSSAPI calls (RFC 2744, MIT's libgssapi_krb5.so.2) that Kerberos needs to say why it
/// failed: .NET's NegotiateAuthentication keeps only the major status, and "GenericFailure"
/// alone cannot tell a missing ticket from an unknown service principal. Loaded at the first
/// call, so a host without the library fails only then (DllNotFoundException).
/// </summary>
internal static unsafe partial class Gssapi
{
    private const string Library = "libgssapi_krb5.so.2";

    /// <summary>Routine errors, the major status's bits 16-23 (RFC 2744 §3.9.1).</summary>
    public const uint NoCredentials = 7u << 16;
    public const uint CredentialsExpired = 11u << 16;
    public const uint RoutineErrorMask = 0xFFu << 16;

    /// <summary>gss_display_status's status types: GSS_C_GSS_CODE, GSS_C_MECH_CODE.</summary>
    public const int GssCode = 1;
    public const int MechanismCode = 2;

    /// <summary>gss_buffer_desc.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Buffer
    {
        public nuint Length;
        public byte* Value;
    }

    /// <summary>gss_OID_desc.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Oid
    {
        public uint Length;
        public byte* Elements;
    }

    [LibraryImport(Library, EntryPoint = "gss_import_name")]
    public static partial uint ImportName(uint* minor, Buffer* name, Oid* type, nint* output);

    [LibraryImport(Library, EntryPoint = "gss_init_sec_context")]
    public static partial uint InitSecContext(uint* minor, nint credential, nint* context, nint target, Oid* mechanism, uint flags,
        uint lifetime, nint bindings, Buffer* input, Oid** actualMechanism, Buffer* output, uint* returnedFlags, uint* returnedLifetime);

    [LibraryImport(Library, EntryPoint = "gss_display_status")]
    public static partial uint DisplayStatus(uint* minor, uint status, int type, Oid* mechanism, uint* messageContext, Buffer* text);

    [LibraryImport(Library, EntryPoint = "gss_release_buffer")]
    public static partial uint ReleaseBuffer(uint* minor, Buffer* buffer);

    [LibraryImport(Library, EntryPoint = "gss_release_name")]
    public static partial uint ReleaseName(uint* minor, nint* name);

    [LibraryImport(Library, EntryPoint = "gss_delete_sec_context")]
    public static partial uint DeleteSecContext(uint* minor, nint* context, Buffer* output);
}
