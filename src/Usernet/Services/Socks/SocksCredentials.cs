using System.Security.Cryptography;
using System.Text;

namespace Usernet.Services.Socks;

/// <summary>The one user and password the SOCKS server accepts (RFC 1929), from <c>socks.user</c> and <c>socks.password</c>.</summary>
internal sealed class SocksCredentials(string user, string password)
{
    private readonly byte[] _user = Encoding.UTF8.GetBytes(user);
    private readonly byte[] _password = Encoding.UTF8.GetBytes(password);

    /// <summary>Compares both in time that does not depend on where they differ.</summary>
    public bool Match(ReadOnlySpan<byte> user, ReadOnlySpan<byte> password) =>
        CryptographicOperations.FixedTimeEquals(user, _user) & CryptographicOperations.FixedTimeEquals(password, _password);

    public override string ToString() => $"{user}:{Config.Redaction.Mask}";
}
