"""Dissect: the single place where raw material becomes Steps.

``Dissector`` is incremental: feed it a Capture's events one at a time (a live
session does, as the pair moves bytes) and it returns the Steps each event
completes; ``finish()`` flushes what the end of the connection decides.
``dissect(capture)`` runs a whole Capture through it, which is how recordings
and imported captures are rebuilt: live, replayed and imported sessions go
through the same code and cannot drift apart.

Steps already returned are never changed by later events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wssviz.capture import Capture, Chunk, Event, Fact
from wssviz.dissect.build import StepMaker
from wssviz.steps import Field, Step, computed

if TYPE_CHECKING:
    from wssviz.dissect.app import AppLayer


class Dissector:
    def __init__(self, capture: Capture) -> None:
        self.capture = capture
        self.maker = StepMaker()
        self.connections = 0
        self._layers()
        self.time = 0.0
        self.finished = False

    def _layers(self) -> None:
        """Fresh TLS and WebSocket layers: a session may hold several connections,
        each opened by its own ``tcp.connect`` fact.  Both are made when first needed,
        so a first step (the TCP connection) loads neither's code."""
        self._app: AppLayer | None = None
        self.tls = None  # made at the first bytes of a wss:// connection (TLS code loads then)

    @property
    def app(self) -> AppLayer:
        """The HTTP and WebSocket layer of the current connection."""
        if self._app is None:
            from wssviz.dissect.app import AppLayer

            self._app = AppLayer(self.capture.scheme, self.maker)
        return self._app

    def feed(self, event: Event) -> list[Step]:
        self.time = event.time
        if isinstance(event, Chunk):
            if self.tls is None and self.capture.scheme == "wss":
                from wssviz.dissect.tls import TLSLayer

                self.tls = TLSLayer(self.capture, self.maker, self.app.feed)
            if self.tls is not None:
                return self.tls.feed(event.direction, event.data, event.time)
            return self.app.feed(event.direction, event.data, event.data, event.time)
        return self._fact(event)

    def finish(self) -> list[Step]:
        if self.finished:
            return []
        self.finished = True
        steps: list[Step] = []
        if self.tls is not None:
            steps += self.tls.finish(self.time)
        steps += self.app.finish(self.time)
        return steps

    def _what_ended(self) -> str:
        """What led to the TCP close: a WebSocket closing handshake, a fatal TLS
        alert, a refused upgrade, or nothing orderly (an abort)."""
        if self.app.closes:
            return "websocket close"
        if self.tls is not None and self.tls.fatal_alert:
            return "tls alert"
        if self.app.refused:
            return "http refusal"
        return "abort"

    # -- local facts -----------------------------------------------------------

    def _fact(self, fact: Fact) -> list[Step]:
        v = fact.value
        make = self.maker.make
        if fact.name == "tcp.connect":
            steps: list[Step] = []
            self.connections += 1
            if self.connections > 1:
                steps += self.finish()
                self._layers()
                self.finished = False
            c, s = v.get("client", ["?", 0]), v.get("server", ["?", 0])
            fields = [computed("client", f"{c[0]}:{c[1]}"), computed("server", f"{s[0]}:{s[1]}"),
                      computed("host name", self.capture.server_name),
                      computed("scheme", f"{self.capture.scheme}://")]
            summary = (f"client {c[0]}:{c[1]} → server {s[0]}:{s[1]}: "
                       f"SYN, SYN-ACK, ACK; {self.capture.server_name} is reached on loopback")
            title = "TCP connection opened"
            if self.connections > 1:
                n = v.get("connection", self.connections)
                why = str(v.get("why", "another connection"))
                fields.insert(0, computed("connection", f"{n} ({why})"))
                title = f"TCP connection {n} opened"
                summary = f"connection {n} ({why}): " + summary
                if v.get("after") is not None:
                    fields.append(computed("after back-off", f"{float(v['after']):g} s"))
            steps.append(make("tcp.connect", "c2s", title, summary, fields=fields, time=fact.time))
            return steps
        if fact.name == "tcp.close":
            by = v.get("by", "client")
            steps = self.finish()
            direction = "c2s" if by == "client" else "s2c"
            how = v.get("how", "fin")
            summary = (f"the {by} closes the TCP connection first (FIN), then the other side"
                       if how == "fin" else f"the {by} drops the connection ({how})")
            steps.append(make("tcp.close", direction, "TCP connection closed", summary,
                              fields=[computed("closed first by", by), computed("how", how),
                                      computed("after", self._what_ended())],
                              status="ok" if how == "fin" else "warning", time=fact.time))
            return steps
        if fact.name == "tls.verdict":
            return self.tls.on_verdict(v, fact.time) if self.tls is not None else []
        if fact.name in ("error", "ws.abort"):
            by = v.get("by", "client")
            layer = v.get("layer", "ws")
            rule = v.get("rule") or v.get("reason") or "unspecified"
            extra = [computed("detail", str(v["detail"]))] if v.get("detail") else []
            blame = v.get("blame")
            return [self.maker.error(layer, str(rule), str(v.get("rfc", "")), v.get("offset", "none"), by,
                                     fact.time, action=str(v.get("action", "gave up")), extra=extra,
                                     blame=str(blame) if blame else None,
                                     title=f"{layer}: {by} gives up", summary=f"{by}: {rule}")]
        return []


def holds_websocket(capture: Capture) -> bool:
    """Whether the (first) connection of ``capture`` asks for a WebSocket upgrade: it is
    dissected only until its first HTTP request is read (for wss:// that needs the key
    log: without it nothing is decrypted and the answer is False)."""
    d = Dissector(capture)
    for ev in capture.events:
        if isinstance(ev, Fact) and ev.name == "tcp.connect" and d.connections:
            break  # a second connection: the first one never asked
        d.feed(ev)
        asked = d._app.asks_upgrade if d._app is not None else None
        if asked is not None:
            return asked
    return False


def dissect(capture: Capture) -> list[Step]:
    """Every Step of a whole Capture."""
    d = Dissector(capture)
    steps: list[Step] = []
    for ev in capture.events:
        steps += d.feed(ev)
    steps += d.finish()
    return steps


__all__ = ["Dissector", "dissect", "holds_websocket", "Field", "Step"]
