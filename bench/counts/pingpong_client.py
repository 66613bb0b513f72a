import socket, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
msg = b"x" * 64
for _ in range(n):
    s.sendall(msg)
    got = 0
    while got < 64:
        b = s.recv(64 - got)
        if not b:
            sys.exit("closed")
        got += len(b)
s.close()
