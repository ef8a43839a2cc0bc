"""The page ``wssviz listen`` serves at ``/``: its script opens a WebSocket back.

The script connects to ``wss://<the page's own host>/ws``, sends one message,
shows the echo and closes with 1000.  Everything the peer sends is shown with
``textContent``: never parsed as HTML.  The status line ends in ``done: …`` so
a headless browser's ``--dump-dom`` shows the outcome.
"""

from __future__ import annotations

MESSAGE = "Hello from the browser"

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>wssviz listen</title>
<style>
 body { font: 16px/1.5 system-ui, sans-serif; margin: 2em auto; max-width: 40em; }
 code, #log { font-family: ui-monospace, monospace; }
 #log { white-space: pre-wrap; background: #f4f4f4; padding: 1em; }
</style>
</head>
<body>
<h1>wssviz listen</h1>
<p>This page opens a WebSocket back to the server that sent it, sends one message and
shows the echo. The terminal running <code>wssviz listen</code> shows every step of
that connection: your browser's ClientHello, the HTTP Upgrade and the masked frames.</p>
<p><button id="again">Send again</button></p>
<div id="log"></div>
<p id="status">connecting…</p>
<script>
"use strict";
const log = document.getElementById("log");
const status = document.getElementById("status");
function say(line) { log.textContent += line + "\\n"; }
function run() {
  const url = "wss://" + location.host + "/ws";
  say("opening " + url);
  const ws = new WebSocket(url);
  ws.onopen = () => { say("open; sending: " + MESSAGE); ws.send(MESSAGE); };
  ws.onmessage = (ev) => {
    say("echo: " + ev.data);
    status.textContent = "done: echo " + JSON.stringify(ev.data);
    ws.close(1000, "done");
  };
  ws.onerror = () => { say("error"); status.textContent = "failed: WebSocket error"; };
  ws.onclose = (ev) => { say("closed with " + ev.code + (ev.reason ? " " + ev.reason : "")); };
}
const MESSAGE = %MESSAGE%;
document.getElementById("again").onclick = run;
run();
</script>
</body>
</html>
"""


def page(message: str = MESSAGE) -> bytes:
    """The page's HTML, with ``message`` as the text the script sends."""
    import json

    literal = json.dumps(message).replace("<", "\\u003c")
    return PAGE.replace("%MESSAGE%", literal).encode("utf-8")
