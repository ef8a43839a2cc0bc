"""What a live session does: the settings the pair runs with.

The default reproduces the textbook example (RFC 6455 §1.3, and the request and
response every WSS explainer prints).  Scenario files map onto these settings;
``faults`` names the hooks where a side misbehaves on purpose.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
RFC_MASK = bytes.fromhex("37fa213d")  # RFC 6455 §5.7 masked "Hello"


@dataclass
class Message:
    """One thing the client sends after the upgrade, and what it expects back."""

    kind: str = "text"  # text, binary, ping, close
    data: str = ""  # text, or hex for binary/ping payloads
    code: int | None = None  # close code
    mask: str | None = None  # hex mask key; None = random

    def payload(self) -> bytes:
        if self.kind == "text":
            return self.data.encode()
        if self.kind in ("binary", "ping"):
            return bytes.fromhex(self.data)
        return b""


def _default_messages() -> list[Message]:
    return [
        Message("text", "Hello", mask=RFC_MASK.hex()),
        Message("ping", b"are you there?".hex()),
        Message("close", "bye", code=1000),
    ]


@dataclass
class Settings:
    name: str = "seed-example"
    title: str = "The textbook wss:// session"
    goal: str = ("A browser-style client opens wss://server.example.com/chat: TCP, the TLS "
                 "handshake, the HTTP Upgrade, then masked frames, a ping and a clean close.")
    scheme: str = "wss"  # wss or ws
    tls_version: str = "1.3"  # 1.3 or 1.2
    host: str = "server.example.com"
    path: str = "/chat"
    origin: str | None = "https://example.com"
    key: str = RFC_KEY
    protocols: list[str] = field(default_factory=lambda: ["chat", "superchat"])
    server_protocols: list[str] = field(default_factory=lambda: ["chat"])
    allowed_origins: list[str] | None = None  # None: the server accepts any Origin
    messages: list[Message] = field(default_factory=_default_messages)
    num_tickets: int = 2
    seed: int | None = None  # randomness for mask keys (None: os.urandom)
    faults: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}{self.path}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Settings":
        d = dict(d)
        d["messages"] = [Message(**m) for m in d.get("messages", [])]
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})
