#!/usr/bin/env python3
"""An agent's loop in Python (shared libssl): ask the local Messages API, read the stream, run the Bash tool's
command the way Claude Code does. Args: URL CAFILE COMMAND TOOL_ID API_KEY [REQUEST_PAD_BYTES]."""
import json
import os
import shlex
import ssl
import subprocess
import sys
import time
import urllib.request

if os.environ.get("CG_TEST_SLEEP"):
    time.sleep(float(os.environ["CG_TEST_SLEEP"]))
url, cafile, command, tool_id, key = sys.argv[1:6]
pad = int(sys.argv[6]) if len(sys.argv) > 6 else 0
body = json.dumps({"model": "claude-test-1", "max_tokens": 1024, "stream": True,
                   "messages": [{"role": "user", "content": "go" + "y" * pad}],
                   "test_command": command, "test_tool_id": tool_id}).encode()
req = urllib.request.Request(url, data=body, headers={
    "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json"})
tools, blocks = [], {}
with urllib.request.urlopen(req, context=ssl.create_default_context(cafile=cafile)) as resp:
    for raw in resp.read().decode().split("\n\n"):
        data = "\n".join(l[6:] for l in raw.split("\n") if l.startswith("data: "))
        if not data:
            continue
        e = json.loads(data)
        if e["type"] == "content_block_start" and e["content_block"]["type"] == "tool_use":
            blocks[e["index"]] = [e["content_block"]["id"], ""]
        elif e["type"] == "content_block_delta" and e["delta"]["type"] == "input_json_delta":
            blocks[e["index"]][1] += e["delta"]["partial_json"]
        elif e["type"] == "content_block_stop" and e["index"] in blocks:
            tools.append(json.loads(blocks[e["index"]][1] or "{}"))
cwd_file = "/tmp/claude-%d-cwd" % os.getpid()
status = 0
for t in tools:
    wrapped = "source /dev/null && eval %s \\< /dev/null && pwd -P >| %s" % (shlex.quote(t["command"]), cwd_file)
    status = subprocess.run(["bash", "-c", "-l", wrapped]).returncode
if os.path.exists(cwd_file):
    os.remove(cwd_file)
sys.exit(status)
