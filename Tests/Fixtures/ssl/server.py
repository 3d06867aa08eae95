#!/usr/bin/env python3
"""A local HTTPS server for the capture tests and bench (127.0.0.1 only).

POST /v1/messages answers with a streamed Messages API response whose tool_use asks for the body's
"test_command" (id "test_tool_id"). Query: gzip=1 (when the client accepts it), piece=N (chunked in N-byte
writes, each flushed: the client reads it in many SSL_read calls), pad=N (N more characters of text).
GET /bytes?size=N answers N bytes (Content-Length), for the throughput bench.
Prints the port on its first line.
"""
import gzip
import http.server
import json
import ssl
import sys
import time
from urllib.parse import parse_qs, urlparse


def sse(tool_id, command, pad):
    def ev(name, data):
        return "event: %s\ndata: %s\n\n" % (name, json.dumps(data))

    s = ev("message_start", {"type": "message_start", "message": {
        "id": "msg_test", "type": "message", "role": "assistant", "model": "claude-test-1", "content": [],
        "usage": {"input_tokens": 5, "output_tokens": 1}}})
    s += ev("content_block_start", {"type": "content_block_start", "index": 0,
                                    "content_block": {"type": "text", "text": ""}})
    s += ev("ping", {"type": "ping"})
    text = "I'll run that. " + "x" * pad
    for i in range(0, len(text), 1000):
        s += ev("content_block_delta", {"type": "content_block_delta", "index": 0,
                                        "delta": {"type": "text_delta", "text": text[i:i + 1000]}})
    s += ev("content_block_stop", {"type": "content_block_stop", "index": 0})
    s += ev("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {
        "type": "tool_use", "id": tool_id, "name": "Bash", "input": {}}})
    inp = json.dumps({"command": command, "description": "test command"})
    third = max(1, len(inp) // 3)
    for part in ["", inp[:third], inp[third:2 * third], inp[2 * third:]]:
        s += ev("content_block_delta", {"type": "content_block_delta", "index": 1,
                                        "delta": {"type": "input_json_delta", "partial_json": part}})
    s += ev("content_block_stop", {"type": "content_block_stop", "index": 1})
    s += ev("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"},
                              "usage": {"output_tokens": 30}})
    s += ev("message_stop", {"type": "message_stop"})
    return s.encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # a head and a body written apart must not wait for a delayed ACK

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        req = json.loads(body or b"{}")
        q = parse_qs(urlparse(self.path).query)
        payload = sse(req.get("test_tool_id", "toolu_test"), req.get("test_command", "true"),
                      int(q.get("pad", ["0"])[0]))
        zipped = q.get("gzip") and "gzip" in self.headers.get("accept-encoding", "")
        if zipped:
            payload = gzip.compress(payload)
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("request-id", "req_test")
        if zipped:
            self.send_header("content-encoding", "gzip")
        self.end_headers()
        piece = int(q.get("piece", ["4096"])[0])
        for i in range(0, len(payload), piece):
            c = payload[i:i + piece]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(c), c))
            self.wfile.flush()
            if piece < 1000:
                time.sleep(0.001)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def do_GET(self):
        size = int(parse_qs(urlparse(self.path).query).get("size", ["1048576"])[0])
        self.send_response(200)
        self.send_header("content-type", "application/octet-stream")
        self.send_header("content-length", str(size))
        self.end_headers()
        block = b"z" * 65536
        while size > 0:
            n = min(size, len(block))
            self.wfile.write(block[:n])
            size -= n
        self.wfile.flush()


def main():
    cert, key = sys.argv[1], sys.argv[2]
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
