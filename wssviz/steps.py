"""Step and Field: the one vocabulary that views see.

A Step is what a learner advances through: one protocol message that crossed the
connection, or one local computation (key derivation, certificate check, Accept
derivation).  Dissect builds Steps from raw material; views only render them.

Steps are data.  What a step *is* lives in its kind, its direction, its status, the
stable dotted ``id`` and the typed ``raw`` value of every field, and its ``facts``;
code decides from these only.  Everything a learner reads is a ``Msg``: a key into
the catalogs (``wssviz/explain/<lang>.toml``) and the values to fill in, rendered
in the learner's language by ``wssviz.explain`` (the step's title and summary, each
field's value; a field's label comes from the catalog by its id).  A plain ``str``
where text is expected is a literal: a protocol token, a number, hex, peer data,
the same in every language.

``wssviz … --json`` renders a Step in one language (``wssviz.plain``): exactly the
keys ``index kind direction title summary wire data fields status time``
(docs/steps.md, docs/architecture.md §2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Iterable, Iterator

from wssviz.core.msg import Msg

__all__ = ["Kind", "Direction", "Status", "Of", "Msg", "Field", "Step", "computed", "ALL_KINDS",
           "LOCAL_KINDS", "JSON_KEYS", "FIELD_KEYS", "jsonable", "layer_of", "ids"]

# --- kinds -----------------------------------------------------------------


class Kind(StrEnum):
    """What a step is (dotted, stable: tests, recordings and --json use them)."""

    TCP_CONNECT = "tcp.connect"
    TCP_CLOSE = "tcp.close"
    TLS_CLIENT_HELLO = "tls.client_hello"
    TLS_HELLO_RETRY_REQUEST = "tls.hello_retry_request"
    TLS_SERVER_HELLO = "tls.server_hello"
    TLS_CHANGE_CIPHER_SPEC = "tls.change_cipher_spec"
    TLS_ENCRYPTED_EXTENSIONS = "tls.encrypted_extensions"
    TLS_CERTIFICATE = "tls.certificate"
    TLS_CERTIFICATE_REQUEST = "tls.certificate_request"
    TLS_CERTIFICATE_VERIFY = "tls.certificate_verify"
    TLS_SERVER_KEY_EXCHANGE = "tls.server_key_exchange"
    TLS_SERVER_HELLO_DONE = "tls.server_hello_done"
    TLS_CLIENT_KEY_EXCHANGE = "tls.client_key_exchange"
    TLS_FINISHED = "tls.finished"
    TLS_NEW_SESSION_TICKET = "tls.new_session_ticket"
    TLS_ALERT = "tls.alert"
    TLS_KEYS = "tls.keys"
    TLS_CERT_CHECK = "tls.cert_check"
    HTTP_UPGRADE_REQUEST = "http.upgrade_request"
    HTTP_UPGRADE_RESPONSE = "http.upgrade_response"
    WS_ACCEPT = "ws.accept"
    WS_ACCEPT_CHECK = "ws.accept_check"
    WS_FRAME = "ws.frame"
    ERROR = "error"


class Direction(StrEnum):
    """``c2s``/``s2c`` for what crosses the connection; ``client``/``server`` for a
    local computation on that side."""

    C2S = "c2s"
    S2C = "s2c"
    CLIENT = "client"
    SERVER = "server"


class Status(StrEnum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


class Of(StrEnum):
    """The buffer a field's span points into."""

    WIRE = "wire"
    DATA = "data"
    NONE = "none"


ALL_KINDS = frozenset(Kind)
#: Kinds that are local computations, not bytes on the wire.
LOCAL_KINDS = frozenset({Kind.TLS_KEYS, Kind.TLS_CERT_CHECK, Kind.WS_ACCEPT, Kind.WS_ACCEPT_CHECK})
DIRECTIONS = frozenset(Direction)
STATUSES = tuple(Status)
OFS = frozenset(Of)

JSON_KEYS = ("index", "kind", "direction", "title", "summary", "wire", "data",
             "fields", "status", "time")
#: The keys of each field in --json, in order.
FIELD_KEYS = ("id", "name", "value", "raw", "start", "end", "of", "children")

SIDE_OF = {Direction.C2S: "client", Direction.S2C: "server",
           Direction.CLIENT: "client", Direction.SERVER: "server"}


def layer_of(kind: str) -> str:
    """The layer a kind belongs to: ``tcp``, ``tls``, ``http``, ``ws`` or ``error``."""
    return kind.split(".", 1)[0]


PHASES = ("tcp", "tls", "http", "ws", "error")


def phase_of(kind: str) -> str:
    """The phase of the connection a step belongs to, as a ladder's bands show it: its
    layer, except that the Accept computed and checked belong to the HTTP opening
    handshake they are part of."""
    if kind in ("ws.accept", "ws.accept_check"):
        return "http"
    layer = layer_of(kind)
    return layer if layer in PHASES else "error"


# --- text as data ------------------------------------------------------------


def jsonable(raw: Any) -> Any:
    """A raw value as JSON holds it: bytes as lowercase hex, tuples as lists."""
    if isinstance(raw, (bytes, bytearray, memoryview)):
        return bytes(raw).hex()
    if isinstance(raw, (list, tuple)):
        return [jsonable(x) for x in raw]
    if isinstance(raw, dict):
        return {str(k): jsonable(v) for k, v in raw.items()}
    if raw is None or isinstance(raw, (bool, int, float, str)):
        return raw
    return str(raw)


# --- fields ----------------------------------------------------------------


@dataclass(slots=True)
class Field:
    """One value inside a step, with the byte span that carried it.

    ``id`` is stable and dotted (``ws.frame.opcode``; docs/steps.md lists them);
    ``raw`` is the typed value (int, bytes, bool, str, list, or None); ``value`` is
    what a learner reads (a literal or a ``Msg``).  The label comes from the catalog
    by ``id`` (with ``n``, the item's number, for numbered items such as "suite 3"),
    unless ``name`` gives a literal one (a header name, an extension name).
    ``of`` names the buffer ``[start, end)`` points into: ``wire`` or ``data`` of the
    owning step, or ``none`` (start = end = 0) for a computed value.
    """

    id: str
    value: Any  # str | Msg
    start: int = 0
    end: int = 0
    of: str = "none"
    children: list["Field"] = field(default_factory=list)
    raw: Any = None
    name: str | None = None
    n: int | None = None

    def __post_init__(self) -> None:
        if self.of == "none":
            self.start = self.end = 0

    def check(self) -> None:
        """The Field contract (tests run it on every field; the hot path does not)."""
        if not isinstance(self.id, str) or not self.id or " " in self.id:
            raise ValueError(f"field id {self.id!r}: a dotted identifier")
        if not isinstance(self.value, (str, Msg)):
            raise TypeError(f"field {self.id!r}: value must be str or Msg, not {type(self.value).__name__}")
        if self.of not in OFS:
            raise ValueError(f"field {self.id!r}: of must be one of {sorted(OFS)}")
        if self.of != "none" and not 0 <= self.start <= self.end:
            raise ValueError(f"field {self.id!r}: bad span [{self.start}, {self.end})")
        for c in self.children:
            c.check()

    def add(self, child: "Field") -> "Field":
        self.children.append(child)
        return child

    def shifted(self, delta: int, of: str | None = None) -> "Field":
        """A copy whose spans (and its children's) move by ``delta`` bytes.

        Parsers report spans relative to the buffer they were given; the dissector
        shifts them to where that buffer sits in ``wire`` or ``data``.
        """
        kids = [c.shifted(delta, of) for c in self.children]
        if self.of == "none":
            return Field(self.id, self.value, 0, 0, "none", kids, self.raw, self.name, self.n)
        new_of = of if of is not None else self.of
        return Field(self.id, self.value, self.start + delta, self.end + delta, new_of, kids,
                     self.raw, self.name, self.n)

    def find(self, id: str) -> "Field | None":
        """Depth-first search for the first field with this ``id``."""
        if self.id == id:
            return self
        for c in self.children:
            hit = c.find(id)
            if hit is not None:
                return hit
        return None

    def walk(self) -> Iterator["Field"]:
        yield self
        for c in self.children:
            yield from c.walk()


def computed(id: str, value: Any, children: list[Field] | None = None, *, raw: Any = None,
             name: str | None = None, n: int | None = None) -> Field:
    """A field for a value that is computed, not carried."""
    return Field(id, value, 0, 0, "none", children or [], raw, name, n)


# --- steps -----------------------------------------------------------------


@dataclass(slots=True)
class Step:
    """One step: ``title`` and ``summary`` are Msgs; ``facts`` are typed values about
    the step that no field carries (what the explanations and summaries depend on:
    who sent a certificate, what ended a connection, the scenario's faults, ...)."""

    index: int
    kind: str
    direction: str
    title: Msg
    summary: Msg
    wire: bytes = b""
    data: bytes = b""
    fields: list[Field] = field(default_factory=list)
    status: str = "ok"
    time: float = 0.0
    facts: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.time = round(float(self.time), 6)

    def check(self) -> None:
        """The Step contract (tests run it on every step they see)."""
        Kind(self.kind)
        Direction(self.direction)
        Status(self.status)
        if not isinstance(self.title, Msg) or not isinstance(self.summary, Msg):
            raise TypeError(f"step {self.kind}: title and summary are Msgs")
        for f in self.fields:
            f.check()
            for g in f.walk():
                buf = self.wire if g.of == "wire" else self.data if g.of == "data" else None
                if buf is not None and g.end > len(buf):
                    raise ValueError(f"step {self.kind}: field {g.id!r} [{g.start}, {g.end}) "
                                     f"runs past {g.of} ({len(buf)} bytes)")

    @property
    def layer(self) -> str:
        return layer_of(self.kind)

    @property
    def local(self) -> bool:
        return self.direction in ("client", "server")

    @property
    def side(self) -> str:
        """The side that sent this step, or that computed it: ``client`` or ``server``."""
        return SIDE_OF[Direction(self.direction)]

    def walk(self) -> Iterator[Field]:
        for f in self.fields:
            yield from f.walk()

    def find(self, id: str) -> Field | None:
        """The first field (depth first) with this ``id``."""
        for f in self.fields:
            hit = f.find(id)
            if hit is not None:
                return hit
        return None

    def all(self, id: str) -> list[Field]:
        """Every field with this ``id``, in order."""
        return [f for f in self.walk() if f.id == id]

    def raw(self, id: str, default: Any = None) -> Any:
        """The raw value of the first field with this ``id``."""
        f = self.find(id)
        return f.raw if f is not None else default

    def has(self, id: str) -> bool:
        return self.find(id) is not None

    def span_bytes(self, f: Field) -> bytes:
        """The bytes a field's span points at (empty for a computed field)."""
        if f.of == "wire":
            return self.wire[f.start:f.end]
        if f.of == "data":
            return self.data[f.start:f.end]
        return b""


def ids(fields: Iterable[Field]) -> list[str]:
    """Every field id in a tree, depth first."""
    return [g.id for f in fields for g in f.walk()]
