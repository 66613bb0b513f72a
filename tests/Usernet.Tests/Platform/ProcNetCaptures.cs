namespace Usernet.Tests.Platform;

/// <summary>
/// /proc/net socket tables captured on Linux 6.x (x86_64) in a fresh network namespace with:
/// TCP listening on 0.0.0.0:8080 (with a connection from 127.0.0.1 to it) and on 127.0.0.1:5432;
/// TCP6 listening on [::]:443 and [::1]:6379; UDP bound to 0.0.0.0:53, and 0.0.0.0:5353
/// connected to 127.0.0.1:53; UDP6 bound to [::]:547, [::1]:1053 and [::ffff:127.0.0.1]:1054.
/// </summary>
internal static class ProcNetCaptures
{
    public const string Tcp = """
          sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 269892 1 000000004a93baea 100 0 0 10 0
           1: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 269893 1 00000000cca8bda7 100 0 0 10 0
           2: 0100007F:88EE 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 269894 2 00000000ab0399cf 20 0 0 10 -1
           3: 0100007F:1F90 0100007F:88EE 01 00000000:00000000 00:00000000 00000000     0        0 269895 1 000000007007c33a 20 0 0 10 -1
        """;

    public const string Tcp6 = """
          sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
           0: 00000000000000000000000001000000:18EB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 269897 1 0000000016d64576 100 0 0 10 0
           1: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 269896 1 000000004a375547 100 0 0 10 0
        """;

    public const string Udp = """
           sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
         4873: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 269898 2 000000007e92d3f4 0
        10173: 0100007F:14E9 0100007F:0035 01 00000000:00000000 00:00000000 00000000     0        0 269899 2 00000000788a99a7 0
        """;

    public const string Udp6 = """
          sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
         5367: 00000000000000000000000000000000:0223 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 269900 2 0000000052d419c5 0
         5873: 00000000000000000000000001000000:041D 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 269901 2 00000000f62ac527 0
         5874: 0000000000000000FFFF00000100007F:041E 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 269902 2 00000000d7ff9e29 0
        """;
}
