using Usernet.Platform.Interop;

namespace Usernet.Platform;

/// <summary>
/// Creates files that only their owner may use, with no moment in which anyone else could. A
/// unix socket's file takes its mode from the umask when bind(2) makes it, so a chmod after the
/// bind leaves a window in which another local user can connect (and a socket of Usernet's
/// hands out a guest's network or its control). So the umask is 077 around the call that
/// creates the file. The umask is the process's, not the thread's: every change of it in
/// Usernet goes through here, under one lock, so two callers cannot interleave and leave 077
/// (or the old mask) behind, and a file another thread creates meanwhile can only come out
/// narrower. A private directory to bind in is no option: the user names the socket's path.
/// </summary>
internal static class OwnerOnlyFiles
{
    private const int OwnerOnlyMask = 0x3F;

    private static readonly Lock Gate = new();

    /// <summary>Runs <paramref name="create"/> (a bind, an open with O_CREAT, a mkdir) under umask 077.</summary>
    public static T Create<T>(Func<T> create)
    {
        lock (Gate)
        {
            int previous = Libc.Umask(OwnerOnlyMask);
            try
            {
                return create();
            }
            finally
            {
                Libc.Umask(previous);
            }
        }
    }

    /// <inheritdoc cref="Create{T}(Func{T})"/>
    public static void Create(Action create) => Create(() =>
    {
        create();
        return 0;
    });
}
