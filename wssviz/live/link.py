"""The live pair's byte mover: one loopback TCP connection, TLS on both ends, every
byte recorded.

``PairLink`` holds the two sockets (``transport.Wire``) and, for wss://, the two
``TLSEnd`` objects.  Nothing moves until the script says so: ``send_app`` writes
an application unit (an HTTP head, a frame) from one side and moves the records
that carry it as one chunk; ``flush`` moves what a TLS side wrote, a record at a
time; ``take`` hands a side the application bytes it has read.  Every move is
recorded as a Chunk of the Capture (after the key log, so the secrets a record
needs are in it first) and yields, so the session can stop between any two.
``tls_handshake``, ``tls_close`` and ``tcp_close`` are the moves of TLS and TCP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator, Protocol

from wssviz import lazy
from wssviz.core.msg import Msg
from wssviz.dissect.build import openssl_verify
from wssviz.live.transport import TLSEnd, Wire, peer_saw_reset, reset, split_records

ssl = lazy.module("ssl")

if TYPE_CHECKING:
    from wssviz.capture import Capture

SIDE_DIRECTION = {"client": "c2s", "server": "s2c"}
OTHER = {"client": "server", "server": "client"}


class Recorder(Protocol):
    """What the link reports to: the script's clock, facts and errors."""

    capture: "Capture"

    def now(self) -> float: ...
    def sync_keylog(self) -> None: ...
    def fact(self, name: str, **value: object) -> None: ...
    def error(self, layer: str, rule: Msg, rfc: str, action: Msg, *, by: str, blame: str | None,
              detail: str = "", name: str = "error") -> None: ...


class PairLink:
    """One connection of the pair (see the module's docs)."""

    def __init__(self, scheme: str, rec: Recorder) -> None:
        self.scheme = scheme
        self.rec = rec
        self.wire = Wire()
        self.ends: dict[str, TLSEnd] = {}
        self._plain = {"client": bytearray(), "server": bytearray()}
        self.failed_by = ""  # the side whose TLS handshake failed

    @property
    def addresses(self) -> dict[str, list]:
        return {"client": list(self.wire.client_addr), "server": list(self.wire.server_addr)}

    def start_tls(self, cctx: "ssl.SSLContext", sctx: "ssl.SSLContext", host: str,
                  session: "ssl.SSLSession | None" = None) -> None:
        self.ends = {"client": TLSEnd(cctx, False, host), "server": TLSEnd(sctx, True)}
        if session is not None:
            self.ends["client"].obj.session = session

    def close_sockets(self) -> None:
        for s in (self.wire.client, self.wire.server):
            try:
                s.close()
            except OSError:
                pass

    # -- moving bytes ------------------------------------------------------------------

    def _record(self, direction: str, data: bytes) -> None:
        self.rec.sync_keylog()
        received = self.wire.move(direction, data)
        self.rec.capture.add_chunk(direction, self.rec.now(), received)
        dst = "server" if direction == "c2s" else "client"
        if self.scheme == "wss":
            self.ends[dst].inc.write(received)
        else:
            self._plain[dst] += received

    def flush(self, side: str, one_chunk: bool = False) -> Iterator[None]:
        """Move what a TLS side has written: a record at a time, or all as one chunk."""
        data = self.ends[side].out.read()
        if not data:
            return
        direction = SIDE_DIRECTION[side]
        if one_chunk:
            self._record(direction, data)
            yield
            return
        for rec in split_records(data):
            self._record(direction, rec)
            yield

    def send_app(self, side: str, data: bytes) -> Iterator[None]:
        """An application write (HTTP head, WebSocket frame) from ``side``."""
        if self.scheme == "wss":
            self.ends[side].obj.write(data)
            yield from self.flush(side, one_chunk=True)
        else:
            self._record(SIDE_DIRECTION[side], data)
            yield

    def take(self, side: str) -> bytes:
        """The application bytes ``side`` has read since the last call."""
        if self.scheme == "wss":
            end = self.ends[side]
            end.pump()
            buf = end.plain
        else:
            buf = self._plain[side]
        data = bytes(buf)
        buf.clear()
        return data

    # -- TLS and TCP ---------------------------------------------------------------------

    def tls_handshake(self) -> Iterator[None]:
        """Both handshakes, a flight at a time; returns True when both succeeded."""
        self.failed_by = ""
        done = {"client": False, "server": False}
        while not all(done.values()):
            for side in ("client", "server"):
                end = self.ends[side]
                if not done[side]:
                    try:
                        end.obj.do_handshake()
                        done[side] = True
                        if side == "client":
                            self.rec.fact("tls.verdict", ok=True, code=0, message="ok",
                                          version=end.obj.version(), cipher=end.obj.cipher()[0],
                                          resumed=end.obj.session_reused)
                    except ssl.SSLWantReadError:
                        pass
                    except ssl.SSLError as exc:
                        yield from self._handshake_failed(side, exc)
                        return False
                yield from self.flush(side)
        return True

    def _handshake_failed(self, side: str, exc: "ssl.SSLError") -> Iterator[None]:
        self.failed_by = side
        code = getattr(exc, "verify_code", 0) or 0
        verify = getattr(exc, "verify_message", None)
        if side == "client":
            self.rec.fact("tls.verdict", ok=False, code=code, message=verify or exc.reason or str(exc))
        rule = (Msg("rule.tls.cert_verify_failed", reason=openssl_verify(getattr(exc, "verify_code", None), verify))
                if verify else Msg("rule.tls.openssl", reason=Msg("value.library_words",
                                                                   text=exc.reason or str(exc))))
        rfc = "RFC 8446 §4.4.2.4, §6.2" if verify else "RFC 8446 §6.2"
        self.rec.error("tls", rule, rfc, Msg("action.fatal_alert"), by=side, blame=OTHER[side],
                       detail=str(exc))
        yield from self.flush(side)
        try:  # the peer reads the alert
            self.ends[OTHER[side]].obj.do_handshake()
        except ssl.SSLError:
            pass

    def tls_close(self, first: str) -> Iterator[None]:
        """close_notify both ways, ``first`` sending first."""
        a, b = self.ends[first], self.ends[OTHER[first]]
        for end, side in ((a, first), (b, OTHER[first])):
            if end is b:
                b.pump()
            try:
                end.obj.unwrap()
            except (ssl.SSLWantReadError, ssl.SSLError):
                pass
            yield from self.flush(side)
        try:
            a.obj.unwrap()
        except (ssl.SSLWantReadError, ssl.SSLError):
            pass

    def tcp_close(self, first: str) -> Iterator[None]:
        self.wire.close(first)
        self.rec.fact("tcp.close", by=first, how="fin")
        yield

    def drop(self, side: str) -> str:
        """``side`` resets the connection (no Close, no close_notify); returns what
        the other side read: "reset" or "eof"."""
        reset(self.wire, side)
        self.rec.fact("tcp.close", by=side, how="reset")
        return peer_saw_reset(self.wire, OTHER[side])

    def abort(self, side: str) -> None:
        """``side`` gives up and closes its socket."""
        self.wire.close(side)
        self.rec.fact("tcp.close", by=side, how="abort")
