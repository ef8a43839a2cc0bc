"""Step and Field: the one vocabulary that views see.

A Step is what a learner advances through: one protocol message that crossed the
connection, or one local computation (key derivation, certificate check, Accept
derivation).  Dissect builds Steps from raw material; views only render them.

``Step.to_json()`` is the machine face of the product (docs/architecture.md §2): exactly the
keys ``index kind direction title summary wire data fields status time``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable

# --- kinds -----------------------------------------------------------------

TCP_KINDS = ("tcp.connect", "tcp.close")
TLS_KINDS = (
    "tls.client_hello",
    "tls.hello_retry_request",
    "tls.server_hello",
    "tls.change_cipher_spec",
    "tls.encrypted_extensions",
    "tls.certificate",
    "tls.certificate_request",
    "tls.certificate_verify",
    "tls.server_key_exchange",
    "tls.server_hello_done",
    "tls.client_key_exchange",
    "tls.finished",
    "tls.new_session_ticket",
    "tls.alert",
    "tls.keys",
    "tls.cert_check",
)
HTTP_KINDS = ("http.upgrade_request", "http.upgrade_response")
WS_KINDS = ("ws.accept", "ws.accept_check", "ws.frame")
ALL_KINDS = frozenset(TCP_KINDS + TLS_KINDS + HTTP_KINDS + WS_KINDS + ("error",))

#: Kinds that are local computations, not bytes on the wire.
LOCAL_KINDS = frozenset({"tls.keys", "tls.cert_check", "ws.accept", "ws.accept_check"})

DIRECTIONS = frozenset({"c2s", "s2c", "client", "server"})
STATUSES = ("ok", "warning", "error")
OFS = frozenset({"wire", "data", "none"})

JSON_KEYS = ("index", "kind", "direction", "title", "summary", "wire", "data",
             "fields", "status", "time")


def layer_of(kind: str) -> str:
    """The layer a kind belongs to: ``tcp``, ``tls``, ``http``, ``ws`` or ``error``."""
    return kind.split(".", 1)[0]


# --- fields ----------------------------------------------------------------


@dataclass
class Field:
    """One named value inside a step, with the byte span that carried it.

    ``of`` names the buffer ``[start, end)`` points into: ``"wire"`` or ``"data"``
    of the owning step, or ``"none"`` (start = end = 0) for a computed value.
    """

    name: str
    value: str
    start: int = 0
    end: int = 0
    of: str = "none"
    children: list["Field"] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.value, str):
            raise TypeError(f"field {self.name!r}: value must be str, not {type(self.value).__name__}")
        if self.of not in OFS:
            raise ValueError(f"field {self.name!r}: of must be one of {sorted(OFS)}")
        if self.of == "none":
            self.start = self.end = 0
        elif not 0 <= self.start <= self.end:
            raise ValueError(f"field {self.name!r}: bad span [{self.start}, {self.end})")

    def add(self, child: "Field") -> "Field":
        self.children.append(child)
        return child

    def shifted(self, delta: int, of: str | None = None) -> "Field":
        """A copy whose spans (and its children's) move by ``delta`` bytes.

        Parsers report spans relative to the buffer they were given; the dissector
        shifts them to where that buffer sits in ``wire`` or ``data``.
        """
        new_of = of if of is not None and self.of != "none" else self.of
        if self.of == "none":
            return Field(self.name, self.value, 0, 0, "none",
                         [c.shifted(delta, of) for c in self.children])
        return Field(self.name, self.value, self.start + delta, self.end + delta, new_of,
                     [c.shifted(delta, of) for c in self.children])

    def find(self, name: str) -> "Field | None":
        """Depth-first search for the first field called ``name``."""
        if self.name == name:
            return self
        for c in self.children:
            hit = c.find(name)
            if hit is not None:
                return hit
        return None

    def walk(self) -> Iterable["Field"]:
        yield self
        for c in self.children:
            yield from c.walk()

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "start": self.start,
                "end": self.end, "of": self.of,
                "children": [c.to_dict() for c in self.children]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Field":
        return cls(d["name"], d["value"], d["start"], d["end"], d["of"],
                   [cls.from_dict(c) for c in d.get("children", [])])


def computed(name: str, value: str, children: list[Field] | None = None) -> Field:
    """A field for a value that is computed, not carried."""
    return Field(name, value, 0, 0, "none", children or [])


# --- steps -----------------------------------------------------------------


@dataclass
class Step:
    index: int
    kind: str
    direction: str
    title: str
    summary: str
    wire: bytes = b""
    data: bytes = b""
    fields: list[Field] = field(default_factory=list)
    status: str = "ok"
    time: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in ALL_KINDS:
            raise ValueError(f"unknown step kind {self.kind!r}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"unknown direction {self.direction!r}")
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        if not self.title or not self.summary:
            raise ValueError(f"step {self.kind}: title and summary must be non-empty")
        self.time = round(float(self.time), 6)

    @property
    def layer(self) -> str:
        return layer_of(self.kind)

    @property
    def local(self) -> bool:
        return self.direction in ("client", "server")

    def find(self, name: str) -> Field | None:
        for f in self.fields:
            hit = f.find(name)
            if hit is not None:
                return hit
        return None

    def value(self, name: str, default: str | None = None) -> str | None:
        f = self.find(name)
        return f.value if f is not None else default

    def span_bytes(self, f: Field) -> bytes:
        """The bytes a field's span points at (empty for a computed field)."""
        if f.of == "wire":
            return self.wire[f.start:f.end]
        if f.of == "data":
            return self.data[f.start:f.end]
        return b""

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "kind": self.kind, "direction": self.direction,
                "title": self.title, "summary": self.summary,
                "wire": self.wire.hex(), "data": self.data.hex(),
                "fields": [f.to_dict() for f in self.fields],
                "status": self.status, "time": self.time}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(", ", ": "))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Step":
        return cls(d["index"], d["kind"], d["direction"], d["title"], d["summary"],
                   bytes.fromhex(d["wire"]), bytes.fromhex(d["data"]),
                   [Field.from_dict(f) for f in d["fields"]], d["status"], d["time"])
