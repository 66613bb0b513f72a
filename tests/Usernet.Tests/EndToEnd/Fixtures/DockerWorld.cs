namespace Usernet.Tests.EndToEnd.Fixtures;

/// <summary>
/// What the Docker tests share (an xunit class fixture): one `usernet docker` and the test image
/// imported into it, so that the class pays for one dockerd start. Disposed after the class,
/// whether its tests passed or not. Without root there is nothing to start (the tests skip).
/// </summary>
public class DockerWorld : IDisposable
{
    private readonly UsernetDocker? _docker;

    public DockerWorld()
        : this([])
    {
    }

    /// <summary>One started with <paramref name="options"/> on its command line.</summary>
    protected DockerWorld(IReadOnlyList<string> options)
    {
        if (!TestEnvironment.IsRoot)
        {
            return;
        }
        _docker = UsernetDocker.Start(options: options);
        try
        {
            Image = $"usernet-test:{_docker.Name}";
            _docker.Check("import", "--change", "CMD [\"/bin/sh\"]", DockerImage.RootfsTar, Image);
        }
        catch
        {
            _docker.Dispose();
            throw;
        }
    }

    internal UsernetDocker Docker => _docker ?? throw new InvalidOperationException("the Docker tests need root");

    /// <summary>busybox (with httpd, nc, wget, sha256sum) and socat.</summary>
    public string Image { get; } = "";

    public void Dispose()
    {
        _docker?.Dispose();
        GC.SuppressFinalize(this);
    }
}
