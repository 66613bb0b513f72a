namespace Usernet.Tests.Services.Docker;

/// <summary>
/// What Debian's dockerd 20.10.24 answered in a `usernet docker` guest, trimmed to the fields
/// Usernet reads (values as captured): <c>GET /containers/{id}/json</c> of containers run with
/// the options named, and lines of <c>GET /events?filters={"type":["container"]}</c>.
/// </summary>
internal static class DockerCaptures
{
    /// <summary><c>docker run -d --name cap1 -p 127.0.0.1:18080:80 ...</c>, running.</summary>
    public const string LoopbackBinding = """
        {"Id": "bb34df0353dcbe5d43b3afe137f3621fa14723912153e605f3029dbc0e78eaff", "Name": "/cap1", "State": {"Status": "running", "Running": true}, "HostConfig": {"NetworkMode": "default", "PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18080"}]}, "PublishAllPorts": false}, "Config": {"ExposedPorts": {"80/tcp": {}}}, "NetworkSettings": {"Ports": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18080"}]}}}
        """;

    /// <summary><c>docker run -d --name cap2 -P --expose 83 -p 18091:80 -p 18092:81/udp -p 9000-9010:82 -p [::1]:18093:84 ...</c>, running.</summary>
    public const string Mixed = """
        {"Id": "cb2251b95b4168da0f666c17c28bcb27d7fa0149c168020c0c1058ae22207ee1", "Name": "/cap2", "State": {"Status": "running", "Running": true}, "HostConfig": {"NetworkMode": "default", "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "18091"}], "81/udp": [{"HostIp": "", "HostPort": "18092"}], "82/tcp": [{"HostIp": "", "HostPort": "9000-9010"}], "84/tcp": [{"HostIp": "::1", "HostPort": "18093"}]}, "PublishAllPorts": true}, "Config": {"ExposedPorts": {"80/tcp": {}, "81/udp": {}, "82/tcp": {}, "83/tcp": {}, "84/tcp": {}}}, "NetworkSettings": {"Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "18091"}, {"HostIp": "::", "HostPort": "18091"}], "81/udp": [{"HostIp": "0.0.0.0", "HostPort": "18092"}, {"HostIp": "::", "HostPort": "18092"}], "82/tcp": [{"HostIp": "0.0.0.0", "HostPort": "9000"}, {"HostIp": "::", "HostPort": "9000"}], "83/tcp": [{"HostIp": "0.0.0.0", "HostPort": "32768"}, {"HostIp": "::", "HostPort": "32768"}], "84/tcp": [{"HostIp": "::1", "HostPort": "18093"}]}}}
        """;

    /// <summary><c>docker run -d --name cap3 --network host -p 18099:80 ...</c>: Docker ignores the binding.</summary>
    public const string HostNetwork = """
        {"Id": "2f3d5a0985bb066fa72bd55240233702171102280afef7fdc42eb3ddcc283931", "Name": "/cap3", "State": {"Status": "running", "Running": true}, "HostConfig": {"NetworkMode": "host", "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "18099"}]}, "PublishAllPorts": false}, "Config": {"ExposedPorts": {"80/tcp": {}}}, "NetworkSettings": {"Ports": {}}}
        """;

    /// <summary><c>docker create --name cap4 -p 18098:80 ...</c>: not started.</summary>
    public const string Created = """
        {"Id": "42a501f7adcb2b392ccb3339e818ab601e8ff30872fbd9e0dcda4fd05cf92057", "Name": "/cap4", "State": {"Status": "created", "Running": false}, "HostConfig": {"NetworkMode": "default", "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "18098"}]}, "PublishAllPorts": false}, "Config": {"ExposedPorts": {"80/tcp": {}}}, "NetworkSettings": {"Ports": {}}}
        """;

    public const string StartEvent = """
        {"status":"start","id":"bb34df0353dcbe5d43b3afe137f3621fa14723912153e605f3029dbc0e78eaff","from":"exp-bb","Type":"container","Action":"start","Actor":{"ID":"bb34df0353dcbe5d43b3afe137f3621fa14723912153e605f3029dbc0e78eaff","Attributes":{"image":"exp-bb","name":"cap1"}},"scope":"local","time":1796401591,"timeNano":1796401591970795502}
        """;

    public const string CreateEvent = """
        {"status":"create","id":"bb34df0353dcbe5d43b3afe137f3621fa14723912153e605f3029dbc0e78eaff","from":"exp-bb","Type":"container","Action":"create","Actor":{"ID":"bb34df0353dcbe5d43b3afe137f3621fa14723912153e605f3029dbc0e78eaff","Attributes":{"image":"exp-bb","name":"cap1"}},"scope":"local","time":1796401589,"timeNano":1796401589664437511}
        """;

    public const string DieEvent = """
        {"status":"die","id":"503c6f3b411f449e588f9d573e49f4d021c8c682b4cbe90e1739a1ebed8978ec","from":"exp-bb","Type":"container","Action":"die","Actor":{"ID":"503c6f3b411f449e588f9d573e49f4d021c8c682b4cbe90e1739a1ebed8978ec","Attributes":{"exitCode":"137","image":"exp-bb","name":"cap6"}},"scope":"local","time":1796401622,"timeNano":1796401622496270601}
        """;

    public const string RenameEvent = """
        {"status":"rename","id":"503c6f3b411f449e588f9d573e49f4d021c8c682b4cbe90e1739a1ebed8978ec","from":"exp-bb","Type":"container","Action":"rename","Actor":{"ID":"503c6f3b411f449e588f9d573e49f4d021c8c682b4cbe90e1739a1ebed8978ec","Attributes":{"image":"exp-bb","name":"cap6","oldName":"/cap5"}},"scope":"local","time":1796401621,"timeNano":1796401621290313410}
        """;

    public const string DestroyEvent = """
        {"status":"destroy","id":"503c6f3b411f449e588f9d573e49f4d021c8c682b4cbe90e1739a1ebed8978ec","from":"exp-bb","Type":"container","Action":"destroy","Actor":{"ID":"503c6f3b411f449e588f9d573e49f4d021c8c682b4cbe90e1739a1ebed8978ec","Attributes":{"image":"exp-bb","name":"cap6"}},"scope":"local","time":1796401623,"timeNano":1796401623165780550}
        """;
}
