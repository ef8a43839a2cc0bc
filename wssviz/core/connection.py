"""One end of a WebSocket connection (RFC 6455 §5–§7, RFC 7692), sans I/O.

Theory of operation
-------------------
A :class:`Connection` is what an endpoint knows after the opening handshake: its
side, the negotiated permessage-deflate parameters and its limits.  It never
touches a socket.  The driver feeds it what the peer sent (``receive_data``,
``receive_eof``), takes the :class:`Event` objects that produced (``events()``),
asks it to send (``send_text``, ``send_binary``, ``send_ping``, ``send_close`` …)
and writes what it must send (``data_to_send()``, or ``frames_to_send()`` for a
driver that wants each frame with its bytes) to the wire.

Everything a WebSocket endpoint must do by itself happens here, once, for every
endpoint wssviz has (the in-process pair, ``connect``, ``listen``):

- frames are read where they lie in the buffer, a large frame as its bytes arrive,
  and a frame over ``max_size`` is refused from its length header (1009);
- each frame is judged against RFC 6455 §5 (masking by side, RSV bits, opcodes,
  control frames, minimal lengths) and fragments are reassembled (§5.4), text
  checked as UTF-8 across fragments (§8.1), compressed messages inflated fragment
  by fragment with the negotiated context takeover (RFC 7692 §7.2.2);
- a ping is answered with a pong (§5.5.2); a Close is answered with a Close (§5.5.1),
  echoing its code; a broken rule *fails* the connection (§7.1.7): a Close with the
  rule's close code goes out and nothing more is read;
- what this side sends is framed, masked by a client (§5.3) and compressed
  fragment by fragment when deflate is on (§7.2.1).

The state follows RFC 6455 §4 and §7 in a table (``TRANSITIONS``): CONNECTING until
the handshake succeeded (``open()``), OPEN while messages flow, CLOSING once a Close
was sent or received (or the connection failed), CLOSED when the TCP connection is
gone (``receive_eof``).  ``close_handshake_done`` says both Close frames crossed;
``tcp_close_expected`` says it is this side's turn to close TCP (the server's first,
§7.1.1).  Scenario faults stay outside: a driver wraps ``send_frame`` or filters
``frames_to_send()``; nothing here knows about them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import IntEnum
from typing import Callable

from wssviz.core.frames import (LIMIT, Frame, FrameChunk, FrameReader, Message,
                                MessageAssembler, Opcode, ProtocolError, build_close, frame_problems,
                                parse_close, serialize)


class State(IntEnum):
    CONNECTING = 0
    OPEN = 1
    CLOSING = 2
    CLOSED = 3


#: (state, what happened) -> the next state.  Anything else leaves the state as it is.
TRANSITIONS: dict[tuple[State, str], State] = {
    (State.CONNECTING, "open"): State.OPEN,
    (State.CONNECTING, "eof"): State.CLOSED,
    (State.OPEN, "send_close"): State.CLOSING,
    (State.OPEN, "receive_close"): State.CLOSING,
    (State.OPEN, "fail"): State.CLOSING,
    (State.OPEN, "eof"): State.CLOSED,
    (State.CLOSING, "eof"): State.CLOSED,
}

SIDES = ("client", "server")


class InvalidState(Exception):
    """The driver asked for something the connection's state does not allow."""


# --- events -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageReceived:
    """A whole data message (reassembled, inflated, UTF-8 checked for text)."""

    message: Message


@dataclass(frozen=True)
class PingReceived:
    data: bytes


@dataclass(frozen=True)
class PongReceived:
    data: bytes


@dataclass(frozen=True)
class CloseReceived:
    """The peer's Close frame: ``code`` None when it carried none (1005 to the app)."""

    code: int | None
    reason: str


@dataclass(frozen=True)
class Failed:
    """This side failed the connection because the peer broke ``error`` (RFC 6455
    §7.1.7); a Close with ``error.close_code`` is queued unless one was sent."""

    error: ProtocolError


@dataclass(frozen=True)
class Closed:
    """The TCP connection is gone.  ``code`` is what the application is told
    (§7.1.5): the peer's close code, 1005 for a Close without one, 1006 if no Close
    came at all; ``clean`` if both Close frames crossed first."""

    code: int
    reason: str
    clean: bool


Event = MessageReceived | PingReceived | PongReceived | CloseReceived | Failed | Closed


@dataclass(frozen=True)
class Outgoing:
    """A frame this side sends, and its bytes as they go on the wire."""

    frame: Frame
    data: bytes


# --- the connection ---------------------------------------------------------------------------


class Connection:
    """One side of a WebSocket connection (see the module's theory of operation).

    ``deflate``: the negotiated ``deflate.DeflateParams`` (None: no compression).
    ``max_size``: the largest frame and message accepted (inflated size included);
    by default the process's limits (``max_frame``, ``max_message``,
    ``max_fragments`` of ``wssviz.core.limits``).
    ``mask_key``: where a client's masking keys come from (default: ``os.urandom``).
    ``keep``: bytes of each received message to hold (None: all; a viewer that only
    shows messages can hold less and still check every byte).
    ``base``: the stream offset of the first byte it reads (the length of the HTTP
    head before it), so that an error names its offset in the whole stream.
    """

    def __init__(self, side: str, *, deflate: object | None = None,
                 max_size: int | None = LIMIT,
                 mask_key: Callable[[], bytes] | None = None, keep: int | None = None,
                 state: State = State.OPEN, base: int = 0) -> None:
        if side not in SIDES:
            raise ValueError("side is 'client' or 'server'")
        self.side = side
        self.peer = "server" if side == "client" else "client"
        self.state = state
        from wssviz.core.limits import LIMITS

        max_frame = LIMITS.max_frame if max_size is LIMIT else max_size
        max_message = LIMITS.max_message if max_size is LIMIT else max_size
        self.max_size = max_message
        self._mask_key = mask_key or (lambda: os.urandom(4))
        self.deflate = deflate
        self._compressor = None
        inflater = None
        if deflate is not None:
            from wssviz.core.deflate import Compressor, Decompressor

            self._compressor = Compressor(deflate, side)
            inflater = Decompressor(deflate, side, max_size=max_message)
        # whole=0: a frame that has not fully arrived is checked as far as it has, so
        # invalid UTF-8 fails the connection at once (RFC 6455 §8.1: fail fast)
        self._reader = FrameReader(max_frame, whole=0, base=base)
        self._assembler = MessageAssembler(max_message, inflater=inflater, keep=keep)
        self._events: list[Event] = []
        self._out: list[Outgoing] = []
        self._sending: int | None = None  # opcode of a message being sent in fragments
        self._compressing = False  # that message is compressed
        self.close_sent: tuple[int | None, str] | None = None
        self.close_received: tuple[int | None, str] | None = None
        self.failed: ProtocolError | None = None
        self.bytes_received = 0

    # -- state ---------------------------------------------------------------------------------

    def _go(self, what: str) -> None:
        self.state = TRANSITIONS.get((self.state, what), self.state)

    def open(self) -> None:
        """The opening handshake succeeded: messages may flow."""
        self._go("open")

    @property
    def unread(self) -> int:
        """Bytes received that do not make a whole frame yet (the part of a frame
        that the connection's end would cut off)."""
        reader = self._reader
        if reader.in_frame:
            return reader.offset - reader._open[1].start + reader.buffered
        return reader.buffered

    @property
    def close_handshake_done(self) -> bool:
        return self.close_sent is not None and self.close_received is not None

    @property
    def tcp_close_expected(self) -> bool:
        """Whether this side should now close the TCP connection: the server as soon
        as the Close frames crossed (or it failed the connection), a client only
        once the server has not (RFC 6455 §7.1.1); the driver decides how long a
        client waits."""
        if self.state == State.CLOSED:
            return False
        if self.side == "server":
            return self.close_handshake_done or (self.failed is not None and self.close_sent is not None)
        return self.close_handshake_done

    # -- receiving -----------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Bytes from the peer.  They are read when their events are asked for
        (``events``, ``next_event``, ``frames_to_send``): a driver that answers each
        event as it comes (an echo) answers before a later frame ends the exchange.
        After a Close was received or the connection failed, further bytes are
        counted and dropped (§5.5.1, §7.1.7)."""
        self.bytes_received += len(data)
        if self.close_received is not None or self.failed is not None or self.state == State.CLOSED:
            return
        self._reader.feed(data)

    def _read(self, until_event: bool = False) -> None:
        """Read frames from what arrived: all of them, or until one event is made."""
        before = len(self._events)
        while self.close_received is None and self.failed is None and self.state != State.CLOSED:
            if until_event and len(self._events) > before:
                return
            try:
                chunk = self._reader.next()
            except ProtocolError as exc:
                self.fail(exc)
                return
            if chunk is None:
                return
            self._chunk(chunk)

    def _chunk(self, chunk: FrameChunk) -> None:
        frame = chunk.frame
        if chunk.first:
            problems = frame_problems(frame, chunk.layout, sender=self.peer,
                                      rsv1_allowed=self.deflate is not None)
            if problems:
                self.fail(problems[0])
                return
        try:
            message = self._assembler.feed_chunk(chunk)
        except ProtocolError as exc:  # a message rule: it is broken where this frame starts
            self.fail(exc if exc.offset >= 0 else exc.at(chunk.layout.start))
            return
        if message is None:
            return
        op = message.opcode
        if op == Opcode.PING:
            self._events.append(PingReceived(message.data))
            if self.state == State.OPEN:
                self._write(Frame(Opcode.PONG, message.data))
        elif op == Opcode.PONG:
            self._events.append(PongReceived(message.data))
        elif op == Opcode.CLOSE:
            try:
                code, reason = parse_close(message.data)
            except ProtocolError as exc:  # frame_problems saw it first; kept for safety
                self.fail(exc)
                return
            self.close_received = (code, reason)
            self._events.append(CloseReceived(code, reason))
            self._go("receive_close")
            if self.close_sent is None:
                self._send_close(code, "")
        else:
            self._events.append(MessageReceived(message))

    def receive_eof(self) -> None:
        """The peer closed (or reset) the TCP connection."""
        self._read()
        if self.state == State.CLOSED:
            return
        self._go("eof")
        if self.close_received is not None:
            code, reason = self.close_received
            self._events.append(Closed(1005 if code is None else code, reason,
                                       self.close_sent is not None))
        else:
            self._events.append(Closed(1006, "", False))

    def events(self) -> list[Event]:
        """What happened since the last call, in order (everything that arrived is read)."""
        self._read()
        out, self._events = self._events, []
        return out

    def next_event(self) -> Event | None:
        """The next thing that happened, reading no further than it needs; None when
        nothing more has arrived."""
        if not self._events:
            self._read(until_event=True)
        return self._events.pop(0) if self._events else None

    # -- sending -------------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self.state != State.OPEN:
            raise InvalidState(f"cannot send data in state {self.state.name}")

    def send_text(self, data: str | bytes, fin: bool = True, *, mask_key: bytes | None = None,
                  compress: bool = True) -> None:
        payload = data.encode("utf-8") if isinstance(data, str) else data
        self._send_data(Opcode.TEXT, payload, fin, mask_key, compress)

    def send_binary(self, data: bytes, fin: bool = True, *, mask_key: bytes | None = None,
                    compress: bool = True) -> None:
        self._send_data(Opcode.BINARY, data, fin, mask_key, compress)

    def send_continuation(self, data: bytes, fin: bool, *, mask_key: bytes | None = None) -> None:
        """The next fragment of the message started by ``send_text``/``send_binary``
        with ``fin=False``."""
        self._check_open()
        if self._sending is None:
            raise InvalidState("no fragmented message is being sent")
        payload = data
        if self._compressing:
            payload = self._compressor.compress_part(data, fin)
        self._write(Frame(Opcode.CONT, payload, fin=fin), mask_key)
        if fin:
            self._sending = None
            self._compressing = False

    def _send_data(self, opcode: int, data: bytes, fin: bool, mask_key: bytes | None,
                   compress: bool) -> None:
        self._check_open()
        if self._sending is not None:
            raise InvalidState("a fragmented message is being sent: send its continuation first")
        compressed = compress and self._compressor is not None
        payload = self._compressor.compress_part(data, fin) if compressed else data
        self._write(Frame(opcode, payload, fin=fin, rsv1=compressed), mask_key)
        if not fin:
            self._sending, self._compressing = opcode, compressed

    def send_ping(self, data: bytes = b"", *, mask_key: bytes | None = None) -> None:
        self._check_open()
        if len(data) > 125:
            raise ValueError("a ping carries at most 125 bytes (RFC 6455 §5.5)")
        self._write(Frame(Opcode.PING, data), mask_key)

    def send_pong(self, data: bytes = b"", *, mask_key: bytes | None = None) -> None:
        self._check_open()
        if len(data) > 125:
            raise ValueError("a pong carries at most 125 bytes (RFC 6455 §5.5)")
        self._write(Frame(Opcode.PONG, data), mask_key)

    def send_close(self, code: int | None = 1000, reason: str = "", *,
                   mask_key: bytes | None = None) -> None:
        """Start (or answer) the closing handshake."""
        if self.close_sent is not None or self.state not in (State.OPEN, State.CLOSING):
            raise InvalidState("a Close was already sent" if self.close_sent else
                               f"cannot close in state {self.state.name}")
        self._send_close(code, reason, mask_key)

    def _send_close(self, code: int | None, reason: str, mask_key: bytes | None = None) -> None:
        reason = reason.encode("utf-8")[:123].decode("utf-8", "ignore") if code is not None else ""
        self._write(Frame(Opcode.CLOSE, build_close(code, reason)), mask_key)
        self.close_sent = (code, reason)
        self._go("send_close")

    def fail(self, error: ProtocolError) -> None:
        """Fail the WebSocket connection (§7.1.7): say why in a Close, read no more."""
        if self.failed is not None:
            return
        self.failed = error
        self._events.append(Failed(error))
        if self.close_sent is None and self.state in (State.OPEN, State.CLOSING):
            code = error.close_code if error.close_code else 1002
            self._send_close(code, error.rule)
        self._go("fail")

    def send_frame(self, frame: Frame) -> None:
        """Write ``frame`` as it is (no checks, no compression): for a driver that
        sends what a misbehaving peer would.  A client's frame keeps the mask key
        it carries (None: unmasked)."""
        self._out.append(Outgoing(frame, serialize(frame)))

    def _write(self, frame: Frame, mask_key: bytes | None = None) -> None:
        if self.side == "client":
            frame.mask_key = mask_key if mask_key is not None else self._mask_key()
        self._out.append(Outgoing(frame, serialize(frame)))

    def frames_to_send(self) -> list[Outgoing]:
        """Each frame queued since the last call, with its bytes (what arrived is read
        first, so the pongs and Closes it calls for are among them)."""
        self._read()
        out, self._out = self._out, []
        return out

    def data_to_send(self) -> bytes:
        """Every byte queued since the last call."""
        return b"".join(o.data for o in self.frames_to_send())
