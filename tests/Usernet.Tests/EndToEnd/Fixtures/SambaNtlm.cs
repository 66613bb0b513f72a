namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// A standalone Samba server of the test's own for NTLM: its passdb in a temporary directory
/// holds one local user (<see cref="User"/>, an existing system account, since a passdb entry
/// needs a Unix one; nothing of the machine's is changed), and winbindd (with samba-dcerpcd,
/// which serves it the local SAM) answers squid's ntlm_auth helper. Both daemons run in the
/// private mount namespace that <see cref="Wrapper"/> makes for squid, with a tmpfs on
/// /run/samba, where ntlm_auth always looks for winbindd's socket; they are squid's
/// descendants, so killing squid by PID ends them too.
/// </summary>
internal sealed class SambaNtlm : IDisposable
{
    /// <summary>The domain: a standalone server's own SAM is named after the server (workgroup and NetBIOS name alike).</summary>
    public const string Domain = "USERNETNTLM";

    public const string User = "nobody";

    public SambaNtlm()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("usernet-samba-").FullName;
        try
        {
            // Squid and its helpers run as squid's user (proxy), and read the configuration here.
            File.SetUnixFileMode(Directory, (UnixFileMode)0x1ED);
            foreach (string sub in new[] { "private", "lock", "state", "cache", "pid", "ncalrpc" })
            {
                System.IO.Directory.CreateDirectory(Path.Combine(Directory, sub));
            }
            File.WriteAllText(ConfigPath, $"""
                [global]
                    workgroup = {Domain}
                    netbios name = {Domain}
                    server role = standalone server
                    security = user
                    passdb backend = tdbsam:{Directory}/private/passdb.tdb
                    private dir = {Directory}/private
                    lock directory = {Directory}/lock
                    state directory = {Directory}/state
                    cache directory = {Directory}/cache
                    pid directory = {Directory}/pid
                    ncalrpc dir = {Directory}/ncalrpc
                    log file = {Directory}/log.%d
                    log level = 1
                    interfaces = lo
                    bind interfaces only = yes
                    disable netbios = yes
                    load printers = no
                    printcap name = /dev/null
                    rpc start on demand helpers = false
                """);
            ProcessRunner.Check(ProcessRunner.Run("pdbedit", ["-s", ConfigPath, "-a", "-u", User, "-t"], stdin: $"{Password}\n{Password}\n"));
        }
        catch
        {
            System.IO.Directory.Delete(Directory, recursive: true);
            throw;
        }
    }

    public string Directory { get; }

    public string ConfigPath => Path.Combine(Directory, "smb.conf");

    /// <summary>The user's password (random for each server).</summary>
    public string Password { get; } = "Ntlm-" + Guid.NewGuid().ToString("N");

    /// <summary>squid's NTLM helper: Samba's ntlm_auth, asking this server's winbindd.</summary>
    public string SquidHelper => $"/usr/bin/ntlm_auth --configfile={ConfigPath} --helper-protocol=squid-2.5-ntlmssp";

    /// <summary>
    /// Runs what follows it (squid) in a private mount namespace with samba-dcerpcd and winbindd
    /// started and answering first (at most 10 s). ntlm_auth, as squid's user, needs the
    /// privileged pipe's directory, which winbindd makes root's alone: it is given to that
    /// user's group once made. (/run/samba is Samba's own directory, made by its packages; it
    /// is made here only if missing, and the tmpfs over it is the namespace's alone.)
    /// </summary>
    public string[] Wrapper =>
    [
        "unshare", "--mount", "--propagation", "private", "sh", "-c",
        "mkdir -p /run/samba && mount -t tmpfs tmpfs /run/samba"
            + $" && {{ /usr/libexec/samba/samba-dcerpcd -F --libexec-rpcds -s {ConfigPath} & }}"
            + $" && {{ winbindd -F --no-process-group -s {ConfigPath} & }}"
            + " && i=0 && until wbinfo -p >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.1; done"
            + $" && chgrp proxy {Directory}/state/winbindd_privileged"
            + " && exec \"$0\" \"$@\"",
    ];

    public string Log => string.Concat(System.IO.Directory.EnumerateFiles(Directory, "log.*").Select(File.ReadAllText));

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
