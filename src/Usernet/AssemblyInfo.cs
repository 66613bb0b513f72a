using System.Runtime.Versioning;

// Usernet is built on Linux namespaces, TAP devices and epoll.
[assembly: SupportedOSPlatform("linux")]
