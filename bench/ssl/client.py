#!/usr/bin/env python3
"""HTTPS client of the capture bench: one keep-alive connection to the local server, N transfers of SIZE bytes
(each timed from request to last byte) and M small requests. Prints one JSON object.
Args: HOST PORT CAFILE N SIZE M"""
import http.client
import json
import ssl
import sys
import time

host, port, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
n, size, m = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
conn = http.client.HTTPSConnection(host, port, context=ssl.create_default_context(cafile=cafile))


def get(nbytes):
    t = time.perf_counter()
    conn.request("GET", "/bytes?size=%d" % nbytes)
    resp = conn.getresponse()
    body = resp.read()
    assert len(body) == nbytes
    return (time.perf_counter() - t) * 1000


get(size)  # warm-up: handshake, first buffers
big = [get(size) for _ in range(n)]
small = [get(64) for _ in range(m)]
print(json.dumps({"big_ms": big, "small_ms": small}))
