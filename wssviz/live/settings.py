"""What a live session does: the settings the pair runs with.

The default reproduces the textbook example (RFC 6455 §1.3, and the request and
response every WSS explainer prints).  Scenario files (scenarios/*.toml, read by
wssviz/scenarios.py) map onto these settings.

Misbehaviour is named, never implied: ``faults`` holds the connection hooks
(``"client.ws_version"``, ``"server.accept"`` …, see ``CONNECTION_FAULTS``) and a
``Message.fault`` names a frame hook (``FRAME_FAULTS``).  The pair's client is a
well-behaved client: it will not send a frame that breaks a rule of RFC 6455
unless a frame hook tells it to (``Message.problems`` says what a frame breaks).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="

#: Connection hooks: name -> (value type, what the side does).
CONNECTION_FAULTS: dict[str, tuple[type, str]] = {
    "client.ws_version": (str, "the client sends this Sec-WebSocket-Version instead of 13"),
    "client.omit_header": (str, "the client leaves this header out of its Upgrade request"),
    "server.accept": (str, "the server sends this Sec-WebSocket-Accept instead of the derived one"),
    "server.ignore_pings": (int, "on the first connection, the server answers only this many pings, "
                                 "then stays silent"),
    "server.drop_on_close": (bool, "the server drops the TCP connection (RST, no close frame, no "
                                   "close_notify) when the client's Close frame arrives"),
}

#: Frame hooks (``Message.fault``): name -> what the client does to that frame.
FRAME_FAULTS: dict[str, str] = {
    "unmasked": "the client sends the frame without a mask (RFC 6455 §5.1)",
    "rsv1": "the client sets RSV1 with no extension negotiated (RFC 6455 §5.2)",
    "rsv2": "the client sets RSV2 (RFC 6455 §5.2)",
    "rsv3": "the client sets RSV3 (RFC 6455 §5.2)",
    "latin1": "the client encodes the text as ISO-8859-1 instead of UTF-8 (RFC 6455 §5.6, §8.1)",
    "oversized-control": "the client lets a control frame carry more than 125 bytes (RFC 6455 §5.5)",
}

KINDS = ("text", "binary", "continuation", "ping", "pong", "close")
CERT_ISSUERS = ("demo-ca", "unknown-ca", "attacker-ca")


@dataclass
class Message:
    """One frame the client sends after the upgrade.

    ``data`` is text (UTF-8, or ISO-8859-1 with the ``latin1`` hook); ``hex`` gives
    raw bytes instead; ``size`` repeats the payload until it is that long.  For a
    close, ``code`` is the status code and ``data`` the reason.  ``fin`` false starts
    or continues a fragmented message.  ``mask`` is a hex mask key (None: random).
    """

    kind: str = "text"
    data: str = ""
    code: int | None = None
    mask: str | None = None
    hex: str | None = None
    size: int | None = None
    fin: bool = True
    fault: str | None = None

    def payload(self) -> bytes:
        if self.kind == "close":
            raw = b"" if self.code is None else self.code.to_bytes(2, "big") + self.data.encode()
            return raw
        if self.hex is not None:
            raw = bytes.fromhex(self.hex)
        elif self.fault == "latin1":
            raw = self.data.encode("latin-1")
        else:
            raw = self.data.encode("utf-8")
        if self.size is not None:
            if not raw:
                raw = b"\x00"
            raw = (raw * (self.size // len(raw) + 1))[:self.size]
        return raw

    @property
    def opcode(self) -> int:
        return {"continuation": 0, "text": 1, "binary": 2, "close": 8, "ping": 9, "pong": 10}[self.kind]

    def problems(self, *, deflate: bool = False) -> list[str]:
        """The rules of RFC 6455 this frame breaks as the client would write it."""
        from wssviz.core import frames as wf

        frame = wf.Frame(self.opcode, self.payload(), fin=self.fin,
                         rsv1=self.fault == "rsv1", rsv2=self.fault == "rsv2", rsv3=self.fault == "rsv3",
                         mask_key=None if self.fault == "unmasked" else b"\0\0\0\0")
        found = [f"{p.rule} ({p.rfc})" for p in wf.frame_problems(frame, sender="client",
                                                                  rsv1_allowed=deflate)]
        if self.kind == "text" and self.fin:
            try:
                self.payload().decode("utf-8")
            except UnicodeDecodeError:
                found.append("text message is not valid UTF-8 (RFC 6455 §8.1)")
        return found


def _default_messages() -> list[Message]:
    from wssviz.core.frames import RFC_EXAMPLE_MASK

    return [
        Message("text", "Hello", mask=RFC_EXAMPLE_MASK.hex()),
        Message("ping", "are you there?"),
        Message("close", "bye", code=1000),
    ]


@dataclass
class Settings:
    name: str = "seed-example"
    title: str = "The textbook wss:// session"
    goal: str = ("A browser-style client opens wss://server.example.com/chat: TCP, the TLS "
                 "handshake, the HTTP Upgrade, then masked frames, a ping and a clean close.")
    description: str = ""
    scheme: str = "wss"  # wss or ws
    # -- TLS ---------------------------------------------------------------
    tls_version: str = "1.3"  # 1.3 or 1.2
    tls13_suites: str | None = None  # OpenSSL list of TLS 1.3 suites (both sides)
    tls12_ciphers: str | None = None  # OpenSSL cipher string for TLS 1.2 (both sides)
    client_groups: str | None = None  # key-exchange groups the client offers, in order
    server_groups: str | None = None  # groups the server accepts (fewer: HelloRetryRequest)
    num_tickets: int = 2
    resume: bool = False  # a second connection resumes with the first one's ticket
    client_cert: bool = False  # mutual TLS: the server asks, the client presents one
    cert_hosts: list[str] | None = None  # names on the server certificate (None: [host])
    cert_issuer: str = "demo-ca"  # demo-ca, unknown-ca or attacker-ca
    cert_valid_days: list[int] = field(default_factory=lambda: [-1, 7])  # [not_before, not_after] from now
    client_trust: list[str] = field(default_factory=lambda: ["demo-ca"])  # CAs the client trusts
    # -- the client's request ----------------------------------------------
    host: str = "server.example.com"
    path: str = "/chat"
    origin: str | None = "https://example.com"
    key: str = RFC_KEY
    protocols: list[str] = field(default_factory=lambda: ["chat", "superchat"])
    extensions: str | None = None  # Sec-WebSocket-Extensions offer
    cookie: str | None = None  # a Cookie header, as a browser attaches the site's cookies
    require_protocol: bool = False  # a strict client fails when no subprotocol is chosen
    # -- the client's heartbeat ---------------------------------------------
    ping_interval: float | None = None  # seconds between keepalive pings (None: no heartbeat)
    pong_timeout: float = 2.0  # seconds to wait for a pong before giving up
    pings: int = 3  # keepalive pings on a connection
    reconnect_backoff: list[float] = field(default_factory=lambda: [0.5])  # delay before each retry
    # -- the server ----------------------------------------------------------
    server_protocols: list[str] = field(default_factory=lambda: ["chat"])
    allowed_origins: list[str] | None = None  # None: the server accepts any Origin
    deflate: dict[str, Any] | None = None  # permessage-deflate support and preferences (None: off)
    max_message: int = 16 * 2**20  # the server's limit on a message (and its inflated size)
    reply: str = "echo"  # echo, or ack (a short text saying how many bytes arrived)
    # -- what happens --------------------------------------------------------
    messages: list[Message] = field(default_factory=_default_messages)
    seed: int | None = None  # randomness for mask keys (None: os.urandom)
    faults: dict[str, Any] = field(default_factory=dict)
    expect: dict[str, Any] = field(default_factory=dict)  # the outcome the scenario should reach

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}{self.path}"

    def fault(self, name: str, default: Any = None) -> Any:
        if name not in CONNECTION_FAULTS:
            raise KeyError(f"unknown fault hook {name!r}")
        return self.faults.get(name, default)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Settings":
        d = dict(d)
        d["messages"] = [Message(**m) for m in d.get("messages", [])]
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})
