#!/usr/bin/env python3
"""Attacker's drop server: accepts any HTTP POST/PUT, logs size, answers 200."""
import sys, http.server
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def _recv(self):
        n = int(self.headers.get("Content-Length", 0)); left = n
        while left > 0:
            b = self.rfile.read(min(65536, left))
            if not b: break
            left -= len(b)
        with open(sys.argv[3], "a") as f: f.write(f"{self.client_address[0]} {self.command} {self.path} {n}\n")
        body = b'{"status":"ok"}'
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    do_POST = do_PUT = _recv
    def do_GET(self):
        body = b"ok\n"; self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()
