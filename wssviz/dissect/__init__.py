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
from wssviz.dissect.build import SIDES, StepMaker, side, slug
from wssviz.steps import Field, Msg, Step, computed

if TYPE_CHECKING:
    from wssviz.dissect.app import AppLayer


#: Sessions where wssviz is one side of a real connection, and which side it is.
OBSERVER = {"listen": "server", "connect": "client"}


class Dissector:
    def __init__(self, capture: Capture, skim: bool = False) -> None:
        self.capture = capture
        self.maker = StepMaker(skim)
        self.session_facts = session_facts(capture)
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
                self.app.tls = self.tls  # its records' fields need the cipher suite
            if self.tls is not None:
                return self._with_session(self.tls.feed(event.direction, event.data, event.time))
            return self._with_session(self.app.feed(event.direction, event.data, event.data, event.time))
        return self._with_session(self._fact(event))

    def checkpoint(self, skim: bool | None = None) -> "Dissector":
        """A copy of this dissector's state (keys and sequence numbers, buffers, message
        assembly, inflate windows) that goes on from here on its own; ``skim`` sets
        whether the copy makes outlines or whole steps.  The Capture is shared."""
        import copy

        other = copy.deepcopy(self, {id(self.capture): self.capture})
        if skim is not None:
            other.maker.skim = skim
        return other

    def crash(self, exc: BaseException) -> Step:
        """The dissector itself broke on an event (a bug in wssviz): an ``error`` step
        that says so, after everything already shown."""
        return self.maker.error("dissector", Msg("rule.tool.driver_failure"), "", None, "client", self.time,
                                action=Msg("action.session_stopped"), code="tool.driver_failure",
                                extra=[computed("error.detail", Msg("value.library_words",
                                                                    text=f"{type(exc).__name__}: {exc}"),
                                                raw=f"{type(exc).__name__}: {exc}")])

    def finish(self) -> list[Step]:
        if self.finished:
            return []
        self.finished = True
        steps: list[Step] = []
        if self.tls is not None:
            steps += self.tls.finish(self.time)
        steps += self.app.finish(self.time)
        return self._with_session(steps)

    def _with_session(self, steps: list[Step]) -> list[Step]:
        """Every step knows the session's own facts (the scenario's man in the middle,
        the scheme), which change what some steps mean.  A local step of a real peer
        (the client's checks, seen from ``listen``; the server's Accept, seen from
        ``connect``) happened out of sight: it says it is inferred from the bytes."""
        observer = OBSERVER.get(str((self.capture.settings or {}).get("name")))
        for s in steps:
            for k, v in self.session_facts.items():
                s.facts.setdefault(k, v)
            if observer and s.direction in SIDES and s.direction != observer and s.kind != "error":
                s.facts["inferred"] = True
                s.summary = Msg("summary.inferred", side=side(s.direction), summary=s.summary)
        return steps

    def _what_ended(self) -> str:
        """What led to the TCP close: a WebSocket closing handshake (both Close
        frames), only one side's Close, a fatal TLS alert, a refused upgrade, or
        both TLS close_notify alerts with no WebSocket close, or nothing orderly (an abort)."""
        if self.app.closes >= {"c2s", "s2c"}:
            return "websocket_close"
        if self.app.closes:
            return "one_sided_close"
        if self.tls is not None and self.tls.fatal_alert:
            return "tls_alert"
        if self.app.refused:
            return "http_refusal"
        if self.tls is not None and self.tls.close_notify >= {"c2s", "s2c"}:
            return "tls_close"
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
            c, s = _endpoint(v.get("client")), _endpoint(v.get("server"))
            fields = [computed("tcp.client", c, raw=v.get("client")),
                      computed("tcp.server", s, raw=v.get("server")),
                      computed("tcp.host_name", self.capture.server_name, raw=self.capture.server_name),
                      computed("tcp.scheme", f"{self.capture.scheme}://", raw=self.capture.scheme)]
            facts: dict = {"connection": self.connections}
            title = Msg("title.tcp_connect")
            if self.connections > 1:
                n = v.get("connection", self.connections)
                why = _why(v.get("why"))
                fields.insert(0, computed("tcp.connection", Msg("value.connection", n=n, why=why), raw=n))
                title = Msg("title.tcp_connect_n", n=n)
                facts["why"] = v.get("why")
                if v.get("after") is not None:
                    fields.append(computed("tcp.backoff", Msg("value.seconds", s=f"{float(v['after']):g}"),
                                           raw=float(v["after"])))
            summary = Msg("summary.tcp_connect", client=c, server=s, host=self.capture.server_name,
                          n=v.get("connection") if self.connections > 1 else None,
                          why=_why(v.get("why")) if self.connections > 1 else None)
            steps.append(make("tcp.connect", "c2s", title, summary, fields=fields, time=fact.time,
                              facts=facts))
            return steps
        if fact.name == "tcp.close":
            by = v.get("by", "client")
            by = by if by in SIDES else "client"
            steps = self.finish()
            direction = "c2s" if by == "client" else "s2c"
            how = v.get("how", "fin")
            after = self._what_ended()
            summary = Msg("summary.tcp_close_fin" if how == "fin" else "summary.tcp_close_abrupt",
                          by=side(by), how=Msg(f"how.{slug(str(how))}"))
            steps.append(make("tcp.close", direction, Msg("title.tcp_close"), summary,
                              fields=[computed("tcp.closed_by", side(by), raw=by),
                                      computed("tcp.how", Msg(f"how.{slug(str(how))}"), raw=how),
                                      computed("tcp.after", Msg(f"after.{after}"), raw=after)],
                              status="ok" if how == "fin" else "warning", time=fact.time,
                              facts={"after": after, "closes": sorted(self.app.closes)}))
            return steps
        if fact.name == "tls.verdict":
            return self.tls.on_verdict(v, fact.time) if self.tls is not None else []
        if fact.name in ("error", "ws.abort"):
            return [self._error_fact(v, fact.time)]
        return []


    def _error_fact(self, v: dict, time: float) -> Step:
        """A side reported a broken rule that has no bytes of its own.  A recording
        made by this version stores the rule and the action as catalog codes with
        their values (``code``, ``params``, ``action_code``, ``action_params``); an
        older one has only English words, shown as they are."""
        by = v.get("by", "client")
        layer = str(v.get("layer", "ws"))
        params = v.get("params") if isinstance(v.get("params"), dict) else {}
        code = v.get("code") if isinstance(v.get("code"), str) else None
        rule: Msg | str = (Msg(f"rule.{code}", **_params(params)) if code
                           else str(v.get("rule") or v.get("reason") or "unspecified"))
        acode = v.get("action_code") if isinstance(v.get("action_code"), str) else None
        aparams = v.get("action_params") if isinstance(v.get("action_params"), dict) else {}
        action: Msg | str = (Msg(f"action.{acode}", **_params(aparams)) if acode
                             else str(v.get("action", "gave up")))
        extra = ([computed("error.detail", Msg("value.library_words", text=str(v["detail"])), raw=str(v["detail"]))]
                 if v.get("detail") else [])
        blame = v.get("blame")
        offset = v.get("offset")
        return self.maker.error(layer, rule, str(v.get("rfc", "")),
                                offset if isinstance(offset, int) else None, by, time, action=action,
                                extra=extra, blame=str(blame) if blame else None, code=code,
                                title=Msg("title.gives_up", layer=Msg(f"layer.{slug(layer)}"),
                                          by=side(by) if by in SIDES else by),
                                summary=Msg("summary.gives_up", by=side(by) if by in SIDES else by,
                                            rule=rule))


def session_facts(capture: Capture) -> dict:
    """What the recording says about the session that no byte tells: whose CA signed the
    server's certificate in a scenario, and whether the client trusted it (a man in the
    middle the client rejected, or one it trusted)."""
    s = capture.settings or {}
    facts: dict = {"scheme": capture.scheme}
    issuer = s.get("cert_issuer")
    if isinstance(issuer, str):
        facts["cert_issuer"] = issuer
        trust = s.get("client_trust")
        if issuer == "attacker-ca" and isinstance(trust, list):
            facts["mitm"] = "trusted" if "attacker-ca" in trust else "rejected"
    return facts


def _endpoint(addr: object) -> str:
    """``host:port`` (``[host]:port`` for IPv6) from a recorded ``[host, port]``."""
    if isinstance(addr, (list, tuple)) and len(addr) == 2:
        host, port = addr
        host = str(host)
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return "?"


_WHY = {"resume the TLS session": "resume", "reconnect": "reconnect"}


def _why(why: object) -> Msg | str | None:
    """Why a session opened another connection (``resume``, ``reconnect``; older
    recordings wrote the words)."""
    if why is None:
        return None
    code = _WHY.get(str(why), str(why))
    return Msg(f"why.{code}") if code in ("resume", "reconnect") else str(why)


def _params(params: dict) -> dict:
    """Recorded rule values: a ``{"msg": key, ...}`` value is a word of the catalogs."""
    out = {}
    for k, v in params.items():
        if isinstance(v, dict) and isinstance(v.get("msg"), str):
            out[str(k)] = Msg(v["msg"], **_params({a: b for a, b in v.items() if a != "msg"}))
        else:
            out[str(k)] = v
    return out


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
