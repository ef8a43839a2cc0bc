"""Capture: the raw material every Source yields and Dissect turns into Steps.

A Capture holds only what cannot be derived: the bytes that crossed the TCP
connection (in order, with direction and time), the TLS secrets as NSS key log
lines, the trust anchors and wall-clock start the certificate check is judged
against, and a few local facts (addresses, OpenSSL's own verdicts, who closed).

Live sessions append to a Capture as they go; recordings store one; pcap import
builds one.  Dissect is the only reader that turns it into Steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from wssviz.core.msg import Msg


def msg_to_json(value: Any) -> Any:
    """A rule's or an action's values as a recording stores them: a Msg (a word the
    catalogs translate) becomes ``{"msg": key, ...its values}``."""
    if isinstance(value, Msg):
        return {"msg": value.key, **{k: msg_to_json(v) for k, v in value.params.items()}}
    if isinstance(value, (list, tuple)):
        return [msg_to_json(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return value


@dataclass(slots=True)  # a long session holds 100,000s of them
class Chunk:
    """Bytes one side wrote to TCP at ``time`` seconds after the connection started.

    ``dropped``: a live session over its memory budget let these bytes go after the
    dissector had read them (``data`` is then empty; ``--record`` still wrote them)."""

    direction: str  # "c2s" or "s2c"
    time: float
    data: bytes
    dropped: int = 0


@dataclass
class Fact:
    """Something a side knows locally that the bytes cannot tell.

    Names in use (``value`` is a JSON-able dict):

    - ``tcp.connect``: ``client``/``server`` as ``[host, port]``; a session that opens
      another connection (a reconnect, a resumption) adds ``connection`` (its number),
      ``why`` and ``after``
    - ``wait``: simulated time passing (heartbeat intervals, back-off): ``seconds``, ``why``
    - ``tcp.close``: ``by`` (``client`` or ``server``), ``how`` (``fin``, ``reset``, ``abort``)
    - ``tls.verdict``: OpenSSL's outcome on the client: ``ok`` (bool), ``code``, ``message``
    - ``ws.abort``: a side gave up without a close frame: ``by``, ``reason``
    - ``error``: anything a side reported that has no bytes of its own:
      ``layer``, ``code`` and ``params`` (the broken rule, as the catalogs know it:
      ``rule.<code>``), ``rfc``, ``by`` (the side that noticed and acted),
      ``blame`` (the side that broke the rule, when known), ``detail``,
      ``action_code`` and ``action_params`` (what ``by`` did: ``action.<code>``).
      Recordings made before version 0.2 hold English ``rule`` and ``action`` text
      instead, shown as it is.
    """

    time: float
    name: str
    value: dict[str, Any] = field(default_factory=dict)


Event = Union[Chunk, Fact]


# the last moment a calendar date can name (9999-12-31 23:59:59 UTC): a start time past
# it cannot be a date to judge certificates at, so files that hold one are refused
LAST_MOMENT = 253402300799.0


@dataclass
class Capture:
    scheme: str = "wss"  # "wss" or "ws"
    server_name: str = "server.example.com"  # the host the client asked for (SNI, Host)
    started: float = 0.0  # wall-clock seconds since the epoch when the connection began
    events: list[Event] = field(default_factory=list)
    keylog: list[str] = field(default_factory=list)  # NSS key log lines, in arrival order
    trust: list[str] = field(default_factory=list)  # PEM certificates the client trusts
    settings: dict[str, Any] = field(default_factory=dict)  # scenario settings, for the record
    #: Bytes of chunks a live session keeps in memory (None: all).  Beyond it, a chunk's
    #: bytes are let go once the dissector has read them (``release``); a ``sink``
    #: (a recording being written) still gets every event whole.
    budget: int | None = None
    sink: Any = None  # called with each event as it is added
    kept: int = 0  # bytes of chunk data held
    dropped: int = 0  # bytes let go
    _released: int = 0  # events before this index have been through ``release``

    # -- building ------------------------------------------------------------

    def add_chunk(self, direction: str, time: float, data: bytes) -> None:
        if direction not in ("c2s", "s2c"):
            raise ValueError(f"bad direction {direction!r}")
        if data:
            self._add(Chunk(direction, round(time, 6), bytes(data)))

    def add_fact(self, time: float, name: str, **value: Any) -> None:
        self._add(Fact(round(time, 6), name, value))

    def _add(self, event: Event) -> None:
        self.events.append(event)
        if self.sink is not None:
            self.sink(event)

    def release(self) -> None:
        """The dissector has read every event so far: over the budget, let chunk bytes go."""
        events = self.events
        for i in range(self._released, len(events)):
            e = events[i]
            if isinstance(e, Chunk) and e.data:
                if self.budget is None or self.kept + len(e.data) <= self.budget:
                    self.kept += len(e.data)
                else:
                    self.dropped += len(e.data)
                    events[i] = Chunk(e.direction, e.time, b"", len(e.data))
        self._released = len(events)

    def add_error(self, time: float, layer: str, rule: Msg, rfc: str, action: Msg, *, by: str,
                  blame: str | None = None, detail: str = "", offset: int | None = None,
                  name: str = "error") -> None:
        """A side reported a broken rule that has no bytes of its own (an ``error`` fact,
        or ``ws.abort`` for a side that gave up on a connection): ``by`` noticed it and
        did ``action``; ``blame`` broke the rule, when known.  ``rule`` and ``action``
        are catalog messages (``rule.<code>``, ``action.<code>``)."""
        value: dict[str, Any] = {"layer": layer, "code": rule.key.removeprefix("rule."),
                                 "params": {k: msg_to_json(v) for k, v in rule.params.items()},
                                 "rfc": rfc, "by": by, "action_code": action.key.removeprefix("action."),
                                 "action_params": {k: msg_to_json(v) for k, v in action.params.items()}}
        if blame:
            value["blame"] = blame
        if detail:
            value["detail"] = detail
        if offset is not None:
            value["offset"] = offset
        self.add_fact(time, name, **value)

    def add_keylog(self, lines: list[str]) -> None:
        seen = set(self.keylog)
        for line in lines:
            line = line.strip()
            if line and not line.startswith("#") and line not in seen:
                self.keylog.append(line)
                seen.add(line)

    # -- reading -------------------------------------------------------------

    @property
    def chunks(self) -> list[Chunk]:
        return [e for e in self.events if isinstance(e, Chunk)]

    @property
    def whole(self) -> bool:
        """Whether every byte is still here (nothing let go over the budget)."""
        return self.dropped == 0

    def facts(self, name: str) -> list[Fact]:
        return [e for e in self.events if isinstance(e, Fact) and e.name == name]

    def fact(self, name: str) -> Fact | None:
        found = self.facts(name)
        return found[0] if found else None

    def stream(self, direction: str) -> bytes:
        return b"".join(c.data for c in self.chunks if c.direction == direction)
