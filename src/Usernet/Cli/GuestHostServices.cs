using Usernet.Control;
using Usernet.Netns;
using Usernet.Services.HostServices;

namespace Usernet.Cli;

/// <summary>
/// What a guest of <c>usernet run</c> or <c>usernet docker</c> finds in /run/host-services: the
/// host directory RUNTIME_DIR/NAME/host-services (0755, in the instance's 0700 runtime
/// directory, made afresh), bound there in the guest's mount namespace, with the SSH agent
/// relay's socket in it. Disposing stops the relay and removes the runtime directory.
/// </summary>
internal sealed class GuestHostServices : IAsyncDisposable
{
    /// <summary>Where the guest sees the directory, as under Docker Desktop.</summary>
    public const string GuestDirectory = "/run/host-services";

    private GuestHostServices(string runtimeDirectory, SshAgentRelay agent)
    {
        RuntimeDirectory = runtimeDirectory;
        Agent = agent;
    }

    /// <summary>RUNTIME_DIR/NAME: the instance's own files on the host.</summary>
    public string RuntimeDirectory { get; }

    public string Directory => Path.Combine(RuntimeDirectory, "host-services");

    public SshAgentRelay Agent { get; }

    /// <summary>The bind that shows the directory at /run/host-services in the guest.</summary>
    public GuestBind Bind => new(Directory, GuestDirectory);

    /// <summary>
    /// Makes the runtime directory of instance <paramref name="name"/> and starts the relay to
    /// the host's $SSH_AUTH_SOCK. Throws <see cref="InvalidOperationException"/> when an instance
    /// of that name runs (its directory is not touched).
    /// </summary>
    public static GuestHostServices Create(string name)
    {
        InstanceDirectory.EnsureExists();
        if (InstanceDirectory.IsLive(InstanceDirectory.SocketPath(name)))
        {
            throw new InvalidOperationException($"an instance named {name} is already running; give this one another --instance");
        }
        string directory = Path.Combine(InstanceDirectory.Path, name);
        Remove(directory);
        var owner = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        System.IO.Directory.CreateDirectory(directory, owner);
        // 0755 (whatever the umask): a container whose user is not root may bind what it holds.
        string services = System.IO.Directory.CreateDirectory(Path.Combine(directory, "host-services")).FullName;
        File.SetUnixFileMode(services, owner | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        var agent = SshAgentRelay.ForHostAgent();
        try
        {
            agent.ListenIn(services);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
        {
            Remove(directory);
            throw new InvalidOperationException($"cannot offer the SSH agent in {directory}: {e.Message}");
        }
        return new GuestHostServices(directory, agent);
    }

    public async ValueTask DisposeAsync()
    {
        await Agent.DisposeAsync().ConfigureAwait(false);
        Remove(RuntimeDirectory);
    }

    private static void Remove(string directory)
    {
        try
        {
            if (System.IO.Directory.Exists(directory))
            {
                System.IO.Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException e)
        {
            Log.Warn($"could not remove {directory}: {e.Message}");
        }
    }
}
