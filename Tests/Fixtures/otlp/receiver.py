#!/usr/bin/env python3
"""An OTLP/HTTP logs receiver for the tests and the benchmark: decodes each POST to /v1/logs with the official
schema (PyPI's opentelemetry-proto), protobuf or JSON, gzip or not, and writes one JSON line per LogRecord.

    receiver.py [--port N] [--out FILE] [--discard]

Prints `READY PORT` on stdout once it listens (port 0 picks one). --discard answers 200 without decoding and
counts requests and bytes (printed on SIGTERM), for the benchmark. The opentelemetry-proto package is looked for
on sys.path and in .build/otlp-python (where `make setup-otlp` installs it); without it the receiver exits 3.
"""
import argparse
import gzip
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, ".build", "otlp-python"))
try:
    from google.protobuf import json_format
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
except ImportError as e:  # the tests skip on exit status 3 and say why
    print(f"NO-OTLP-PROTO {e}", flush=True)
    sys.exit(3)


def any_value(v):
    """An AnyValue as a plain JSON value (kvlists as objects, bytes as hex)."""
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in v.kvlist_value.values}
    if kind == "bytes_value":
        return v.bytes_value.hex()
    return getattr(v, kind)


def attrs(kvs):
    return {kv.key: any_value(kv.value) for kv in kvs}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        server = self.server
        if server.discard:
            with server.lock:
                server.requests += 1
                server.bytes += len(body)
            return self.answer(200, b"", "application/x-protobuf")
        ctype = self.headers.get("Content-Type", "")
        encoding = self.headers.get("Content-Encoding", "identity")
        if self.path != "/v1/logs":
            return self.answer(404, b"not /v1/logs", "text/plain")
        try:
            raw = gzip.decompress(body) if encoding == "gzip" else body
            req = logs_service_pb2.ExportLogsServiceRequest()
            if ctype == "application/json":
                json_format.Parse(raw, req)
            elif ctype == "application/x-protobuf":
                req.ParseFromString(raw)
            else:
                return self.answer(415, b"unsupported content type", "text/plain")
        except Exception as e:  # a malformed request is the test's finding: say it
            self.server.write({"error": f"{type(e).__name__}: {e}", "content_type": ctype})
            return self.answer(400, str(e).encode(), "text/plain")
        headers = {k.lower(): v for k, v in self.headers.items()}
        for rl in req.resource_logs:
            resource = attrs(rl.resource.attributes)
            for sl in rl.scope_logs:
                for r in sl.log_records:
                    self.server.write({
                        "content_type": ctype, "content_encoding": encoding, "headers": headers,
                        "resource": resource, "scope": {"name": sl.scope.name, "version": sl.scope.version},
                        "time_unix_nano": r.time_unix_nano, "observed_time_unix_nano": r.observed_time_unix_nano,
                        "severity_number": r.severity_number, "severity_text": r.severity_text,
                        "event_name": r.event_name, "body": any_value(r.body), "attributes": attrs(r.attributes),
                    })
        resp = logs_service_pb2.ExportLogsServiceResponse()
        if ctype == "application/json":
            self.answer(200, json_format.MessageToJson(resp).encode(), ctype)
        else:
            self.answer(200, resp.SerializeToString(), ctype)

    def answer(self, status, payload, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class Receiver(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port, out, discard):
        super().__init__(("127.0.0.1", port), Handler)
        self.out = open(out, "a") if out else sys.stdout
        self.discard = discard
        self.lock = threading.Lock()
        self.requests = 0
        self.bytes = 0

    def write(self, record):
        with self.lock:
            self.out.write(json.dumps(record) + "\n")
            self.out.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--out")
    ap.add_argument("--discard", action="store_true")
    a = ap.parse_args()
    server = Receiver(a.port, a.out, a.discard)

    def stop(*_):
        print(json.dumps({"requests": server.requests, "bytes": server.bytes}), flush=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    print(f"READY {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
