"""A wss:// Capture from fuzz bytes, and fuzz bytes from a Capture (for seeds).

The input is a list of records, each ``kind (1 byte) | length (2 bytes, big-endian) |
body``; a record cut short ends the list.  ``kind & 3``:

0  bytes the client sent (a c2s chunk)
1  bytes the server sent (an s2c chunk)
2  one NSS key log line (the session's secrets)
3  a fact, by ``body[0] % 8``: 0/1 tcp.close by the client/server, 2/3 tls.verdict
   ok/failed, 4 a second tcp.connect, 5 a trusted PEM certificate (the rest of the
   body), 6 an ``error`` fact, 7 ws.abort.

Every capture starts with a tcp.connect fact; the chunks' times go up by 1 ms.
"""

from __future__ import annotations

import json

from wssviz.capture import Capture, Chunk, Fact

STARTED = 1795683321.0  # the wall clock the certificate is judged at (as recorded)


def capture_from(data: bytes, *, started: float = STARTED, scheme: str = "wss") -> Capture:
    cap = Capture(scheme=scheme, server_name="server.example.com", started=started)
    cap.add_fact(0.0, "tcp.connect", client=["127.0.0.1", 50000], server=["127.0.0.1", 443])
    pos, t = 0, 0.0
    while pos + 3 <= len(data):
        kind = data[pos] & 3
        n = int.from_bytes(data[pos + 1:pos + 3], "big")
        body = data[pos + 3:pos + 3 + n]
        pos += 3 + n
        t += 0.001
        if kind in (0, 1):
            if body:
                cap.add_chunk("c2s" if kind == 0 else "s2c", t, body)
        elif kind == 2:
            cap.add_keylog([body.decode("latin-1")])
        elif body:
            what = body[0] % 8
            rest = body[1:].decode("latin-1")
            if what in (0, 1):
                cap.add_fact(t, "tcp.close", by="client" if what == 0 else "server",
                             how="fin" if len(body) % 2 else "reset")
            elif what in (2, 3):
                cap.add_fact(t, "tls.verdict", ok=what == 2, code=len(rest), message=rest)
            elif what == 4:
                cap.add_fact(t, "tcp.connect", client=["127.0.0.1", 50001],
                             server=["127.0.0.1", 443], connection=2, why="reconnect")
            elif what == 5:
                cap.trust.append(rest)
            elif what == 6:
                cap.add_fact(t, "error", layer=rest[:8], code=rest[8:], params={}, rfc="x",
                             by="server", action_code="close", action_params={})
            else:
                cap.add_fact(t, "ws.abort", by="client", reason=rest)
    return cap


def input_from(doc: dict) -> bytes:
    """Seed bytes from a recording document (its chunks, key log, trust, closes, verdicts)."""
    out = bytearray()

    def rec(kind: int, body: bytes) -> None:
        out.extend(bytes([kind]) + len(body).to_bytes(2, "big") + body)

    for line in doc.get("keylog", []):
        rec(2, line.encode())
    for pem in doc.get("trust", []):
        rec(3, b"\x05" + pem.encode())
    for e in doc["events"]:
        if "dir" in e:
            data = bytes.fromhex(e["hex"])
            for i in range(0, len(data), 0xFFFF):
                rec(0 if e["dir"] == "c2s" else 1, data[i:i + 0xFFFF])
        elif e["fact"] == "tcp.close":
            rec(3, bytes([0 if e["value"].get("by") == "client" else 1]))
        elif e["fact"] == "tls.verdict":
            rec(3, bytes([2 if e["value"].get("ok") else 3]) + str(e["value"].get("message", "")).encode())
    return bytes(out)


if __name__ == "__main__":  # python fuzz/_capture_input.py recording.json out.bin
    import sys

    doc = json.load(open(sys.argv[1], encoding="utf-8"))
    open(sys.argv[2], "wb").write(input_from(doc))
