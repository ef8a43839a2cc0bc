// A Node `ws` server and client in one process, both with permessage-deflate
// ({threshold: 0}: every data message is compressed).  make_captures.py runs it:
//
//   NODE_PATH=.../node_modules node nodews_pair.js ws  PLAN.json
//   NODE_PATH=.../node_modules node --tls-keylog=KEYS nodews_pair.js wss PLAN.json CERT.pem KEY.pem SERVERNAME
//
// It prints "PORT n" once the server listens, waits for a line on stdin (the capture
// has started), then the client sends each message of PLAN.json in turn (fragments with
// ws.send(data, {fin: false}) ... {fin: true}), waits for the echo, and closes with
// 1000.  The server echoes each message with the same fragments.  Last it prints one
// JSON line: the negotiated extensions and the close codes each side sent and received.
'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');
const readline = require('readline');
const WebSocket = require('ws');

const [scheme, planFile, certFile, keyFile, serverName] = process.argv.slice(2);
const plan = JSON.parse(fs.readFileSync(planFile, 'utf8')).map((m) => ({
  binary: m.opcode === 'binary',
  fragments: m.fragments_hex.map((h) => Buffer.from(h, 'hex')),
}));
const deflate = { threshold: 0 };
const result = { node: process.version, ws: require('ws/package.json').version };

function sendMessage(ws, m) {
  m.fragments.forEach((frag, i) => {
    ws.send(frag, { binary: m.binary, fin: i === m.fragments.length - 1, compress: true });
  });
}

function check(m, data, isBinary) {
  const want = Buffer.concat(m.fragments);
  if (isBinary !== m.binary || !Buffer.from(data).equals(want)) {
    throw new Error(`unexpected message: ${Buffer.from(data).toString('hex')}`);
  }
}

const httpServer = scheme === 'wss'
  ? https.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) })
  : http.createServer();
const wss = new WebSocket.Server({ server: httpServer, perMessageDeflate: deflate });
let serverClosed = false;
let clientClosed = false;

function finish() {
  if (!serverClosed || !clientClosed) return;
  result.ok = true;
  wss.close();
  httpServer.close();
  // stdin and the servers' sockets would keep the process alive: leave once written
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(0));
}

wss.on('connection', (ws) => {
  let n = 0;
  ws.on('message', (data, isBinary) => {
    const m = plan[n++];
    check(m, data, isBinary);
    sendMessage(ws, m);
  });
  ws.on('close', (code) => {
    result.server_close_rcvd = code;
    result.server_close_sent = code; // ws answers a Close with the same code
    serverClosed = true;
    finish();
  });
});

httpServer.listen(0, '127.0.0.1', () => {
  const port = httpServer.address().port;
  process.stdout.write(`PORT ${port}\n`);
  const rl = readline.createInterface({ input: process.stdin });
  rl.once('line', () => {
    rl.close();
    const opts = { perMessageDeflate: deflate };
    if (scheme === 'wss') {
      opts.ca = fs.readFileSync(certFile);
      opts.servername = serverName;
    }
    const ws = new WebSocket(`${scheme}://127.0.0.1:${port}/deflate`, opts);
    let n = 0;
    ws.on('upgrade', (res) => {
      result.extensions = res.headers['sec-websocket-extensions'] || null;
    });
    ws.on('open', () => sendMessage(ws, plan[0]));
    ws.on('message', (data, isBinary) => {
      check(plan[n], data, isBinary);
      n += 1;
      if (n < plan.length) {
        sendMessage(ws, plan[n]);
      } else {
        result.client_close_sent = 1000;
        ws.close(1000);
      }
    });
    ws.on('close', (code) => {
      result.client_close_rcvd = code;
      clientClosed = true;
      finish();
    });
  });
});
