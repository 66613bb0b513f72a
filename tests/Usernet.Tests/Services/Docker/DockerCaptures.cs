namespace Usernet.Tests.Services.Docker;

/// <summary>
/// What Debian's dockerd 20.10.24 answered in a `usernet docker` guest, trimmed to the fields
/// Usernet reads (values as captured): <c>GET /containers/{id}/json</c> of containers run with
/// the options named, lines of <c>GET /events?filters={"type":["container"]}</c>, and the lists
/// <c>GET /networks</c> and <c>GET /containers/json</c>.
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

    /// <summary>
    /// <c>GET /networks</c> after <c>docker network create --ipv6 --subnet fd00:dd::/64 dnetnet</c> and
    /// <c>docker network create --internal dnetint</c>: host, the default bridge, the two, none.
    /// </summary>
    public const string Networks = """
        [{"Name": "host", "Id": "c24ef6838656affb9064f2349adcea13e728126812759f0403bbde1fd8f859e1", "Driver": "host", "EnableIPv6": false, "IPAM": {"Driver": "default", "Options": null, "Config": []}, "Internal": false}, {"Name": "bridge", "Id": "042510f3c1bd0b3c9b41589fe319d6cfdf856f1d09b46635ef91c774a2bb7f5a", "Driver": "bridge", "EnableIPv6": false, "IPAM": {"Driver": "default", "Options": null, "Config": [{"Subnet": "172.17.0.0/16"}]}, "Internal": false}, {"Name": "dnetnet", "Id": "e54cb17dca99b99112217aaaa7af37cc5d64f7163ec6ab67f6faa804bd0f2a2e", "Driver": "bridge", "EnableIPv6": true, "IPAM": {"Driver": "default", "Options": {}, "Config": [{"Subnet": "172.18.0.0/16", "Gateway": "172.18.0.1"}, {"Subnet": "fd00:dd::/64"}]}, "Internal": false}, {"Name": "dnetint", "Id": "5ab3a954421370cc8dff9c23a4b2ec514421b2560b3393235e022f1a5270f087", "Driver": "bridge", "EnableIPv6": false, "IPAM": {"Driver": "default", "Options": {}, "Config": [{"Subnet": "172.19.0.0/16", "Gateway": "172.19.0.1"}]}, "Internal": true}, {"Name": "none", "Id": "c2d9653706813cb91a22360420deb6570a08420684a8e65efe3733f268fadec5", "Driver": "null", "EnableIPv6": false, "IPAM": {"Driver": "default", "Options": null, "Config": []}, "Internal": false}]
        """;

    /// <summary>
    /// <c>GET /containers/json</c>: web3 on the default bridge, and web1 on dnetnet (run with
    /// <c>--label com.docker.compose.service=svc</c>, as compose labels a service's containers).
    /// </summary>
    public const string RunningContainers = """
        [{"Id": "248c6057c158723827a8a79c189fe3ef28229e6c4b206d95dc6a2cbe51a6b16c", "Names": ["/web3"], "Labels": {}, "State": "running", "NetworkSettings": {"Networks": {"bridge": {"Aliases": null, "Gateway": "172.17.0.1", "IPAddress": "172.17.0.2", "IPPrefixLen": 16, "IPv6Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0}}}}, {"Id": "68ddeecccfd026f1bb5d3465cb545737abe4dc29df47f6ed7b9d9c610bed541c", "Names": ["/web1"], "Labels": {"com.docker.compose.service": "svc"}, "State": "running", "NetworkSettings": {"Networks": {"dnetnet": {"Aliases": null, "Gateway": "172.18.0.1", "IPAddress": "172.18.0.2", "IPPrefixLen": 16, "IPv6Gateway": "fd00:dd::1", "GlobalIPv6Address": "fd00:dd::2", "GlobalIPv6PrefixLen": 64}}}}]
        """;

    public const string NetworkConnectEvent = """
        {"Type":"network","Action":"connect","Actor":{"ID":"e54cb17dca99b99112217aaaa7af37cc5d64f7163ec6ab67f6faa804bd0f2a2e","Attributes":{"container":"68ddeecccfd026f1bb5d3465cb545737abe4dc29df47f6ed7b9d9c610bed541c","name":"dnetnet","type":"bridge"}},"scope":"local","time":1796456895,"timeNano":1796456895634681627}
        """;

    public const string NetworkCreateEvent = """
        {"Type":"network","Action":"create","Actor":{"ID":"e54cb17dca99b99112217aaaa7af37cc5d64f7163ec6ab67f6faa804bd0f2a2e","Attributes":{"name":"dnetnet","type":"bridge"}},"scope":"local","time":1796456895,"timeNano":1796456895344092653}
        """;
}
