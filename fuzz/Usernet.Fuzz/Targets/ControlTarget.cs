using Usernet.Control;
using Usernet.Platform;
using Usernet.Platform.Interop;
using Usernet.Services.Dns;

namespace Usernet.Fuzz.Targets;

/// <summary>
/// Requests to the control API, read and dispatched by <see cref="ControlServer"/> as from its
/// socket: the DNS record routes, with the loop thread an instance has, and gvisor-tap-vsock's
/// expose and unexpose bodies read as PortRoutes reads them (publishing itself would open host
/// sockets). Bit 0 of the first byte makes the client another user. A request gets an answer
/// or none, and never a 500: that is a handler that failed on what it was sent.
/// </summary>
internal sealed class ControlTarget : IFuzzTarget
{
    private static readonly int OwnUid = Libc.GetEUid();

    private static readonly EventLoop Loop = StartLoop();

    public void Run(ReadOnlySpan<byte> data)
    {
        var input = new FuzzInput(data);
        int uid = (input.Byte() & 1) != 0 ? OwnUid + 1 : OwnUid;
        var control = new ControlServer();
        var options = FuzzNetwork.StackOptions;
        var records = new DnsLocalRecords(DnsLocalRecords.BuiltInNames(options.Host, options.HostV6, options.Gateway, options.GatewayV6));
        DnsRecordRoutes.Map(control, Loop, records);
        control.Map("POST", "/services/forwarder/expose", request => Parsed(PortRoutes.FromGvproxy(request.Body, needRemote: true)));
        control.Map("POST", "/services/forwarder/unexpose", request => Parsed(PortRoutes.FromGvproxy(request.Body, needRemote: false)));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var response = control.RespondAsync(new MemoryStream(input.Rest().ToArray(), writable: false), uid, timeout.Token).GetAwaiter().GetResult();
        PropertyException.Check(response is not { Status: 500 }, $"a control handler failed: {response?.Body}");
    }

    /// <summary>What PortRoutes would publish or unpublish, said back instead.</summary>
    private static ControlResponse Parsed(Services.Forwarding.PublishSpec spec) =>
        ControlResponse.Json(JsonText.Build(w => w.WriteString("spec", spec.ToString())));

    private static EventLoop StartLoop()
    {
        var loop = new EventLoop();
        new Thread(loop.Run) { IsBackground = true, Name = "loop" }.Start();
        return loop;
    }
}
