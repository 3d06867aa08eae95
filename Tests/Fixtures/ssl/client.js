// Claude Code's loop in Node (OpenSSL linked into the node executable): POST /v1/messages, parse the stream,
// assemble each tool_use's input, run the Bash tool's command as Claude Code does.
// Args: URL CAFILE COMMAND TOOL_ID API_KEY (or - for $CG_TEST_API_KEY)
'use strict';
const https = require('https');
const fs = require('fs');
const { spawn } = require('child_process');

const [url, ca, command, toolId, keyArg] = process.argv.slice(2);
// '-': the key comes from CG_TEST_API_KEY, as an agent has it (argv shows in every exec event).
const key = keyArg === '-' ? process.env.CG_TEST_API_KEY : keyArg;
const body = JSON.stringify({
  model: 'claude-test-1', max_tokens: 1024, stream: true, messages: [{ role: 'user', content: 'go' }],
  test_command: command, test_tool_id: toolId,
});
const u = new URL(url);

// Claude Code's shell quoting of the command for eval.
const quote = (s) => "'" + s.replace(/'/g, "'\\''") + "'";

function runBash(cmd) {
  const cwdFile = `/tmp/claude-${process.pid}-cwd`;
  const p = spawn('bash', ['-c', '-l', `source /dev/null && eval ${quote(cmd)} \\< /dev/null && pwd -P >| ${cwdFile}`],
    { stdio: 'inherit' });
  p.on('exit', (code, signal) => {
    fs.rmSync(cwdFile, { force: true });
    process.exitCode = code === null ? 128 + 9 : code;
  });
}

const req = https.request({
  hostname: u.hostname, port: u.port, path: u.pathname + u.search, method: 'POST', ca: fs.readFileSync(ca),
  headers: {
    'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  },
}, (res) => {
  let buf = '';
  const blocks = {};
  const tools = [];
  res.setEncoding('utf8');
  res.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const raw = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = raw.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      if (!data) continue;
      const e = JSON.parse(data);
      if (e.type === 'content_block_start' && e.content_block.type === 'tool_use') {
        blocks[e.index] = { id: e.content_block.id, json: '' };
      } else if (e.type === 'content_block_delta' && e.delta.type === 'input_json_delta') {
        blocks[e.index].json += e.delta.partial_json;
      } else if (e.type === 'content_block_stop' && blocks[e.index]) {
        tools.push(JSON.parse(blocks[e.index].json || '{}'));
      }
    }
  });
  res.on('end', () => { for (const t of tools) runBash(t.command); });
});
req.on('error', (e) => { console.error(e); process.exitCode = 2; });
req.end(body);
