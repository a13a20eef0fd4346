#!/usr/bin/env python3
"""A fake Datadog intake for lab-agent's tests: listens on 127.0.0.1 only,
records every request (method, path, headers, body) as one JSON line, and
answers with --status (default 202) and {"status":"ok"}."""
import argparse
import http.server
import json
import os
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0, help="0: any free port")
    ap.add_argument("--port-file", required=True, help="where to write the port")
    ap.add_argument("--log", required=True, help="JSON lines of the requests")
    ap.add_argument("--status", type=int, default=202)
    args = ap.parse_args()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def handle_one(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            with open(args.log, "a") as f:
                f.write(json.dumps({
                    "method": self.command,
                    "path": self.path,
                    "headers": {k: v for k, v in self.headers.items()},
                    "body": body,
                }) + "\n")
            reply = json.dumps({"status": "ok" if args.status < 300 else "error"}).encode()
            self.send_response(args.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        do_POST = handle_one
        do_GET = handle_one
        do_PUT = handle_one

        def log_message(self, fmt, *a):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
