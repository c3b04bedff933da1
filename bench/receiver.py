"""A webhook receiver for the benchmark: answers 204 at once and writes, per delivery, the
milliseconds from the change (the payload's `timestamp`, written in the write's transaction)
to its arrival here. Usage: python3 bench/receiver.py PORTFILE LAGFILE"""
import datetime
import http.server
import json
import sys
import threading

port_file, lag_file = sys.argv[1], sys.argv[2]
lock = threading.Lock()
out = open(lag_file, "a", buffering=1)


class Hook(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()
        at = datetime.datetime.fromisoformat(json.loads(body)["timestamp"].replace("Z", "+00:00"))
        with lock:
            out.write(f"{(now - at).total_seconds() * 1000:.1f}\n")

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
with open(port_file, "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
