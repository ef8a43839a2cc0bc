"""The two WebSocket sides of the live pair, each a thin driver of the core's
sans-I/O handshake and connection.

``PairClient`` opens with the scenario's Upgrade request and sends the frames the
scenario lists; ``PairServer`` is a strict echo (or acknowledging) server.  Neither
parses a frame or knows a close rule: ``core.opening`` and ``core.connection`` do
that, exactly as for ``connect`` and ``listen``.  A scenario's faults wrap what the
sides send, never the connection: a misbehaving frame is written as it is
(``Connection.send_frame``), a header is left out of the request, the server's
answers are filtered (a pong that never comes, a Close answered by a reset).
"""

from __future__ import annotations

from typing import Callable

from wssviz.core import frames as wf
from wssviz.core.connection import Connection, Event, Failed, MessageReceived, Outgoing, State
from wssviz.core.opening import ClientHandshake, ServerHandshake
from wssviz.live.settings import Message, Settings

OPCODES = {"continuation": wf.Opcode.CONT, "text": wf.Opcode.TEXT, "binary": wf.Opcode.BINARY,
           "ping": wf.Opcode.PING, "pong": wf.Opcode.PONG, "close": wf.Opcode.CLOSE}


class PairClient:
    """The pair's client (see the module's docs)."""

    def __init__(self, s: Settings, rand: Callable[[int], bytes]) -> None:
        self.s = s
        self.rand = rand
        self.handshake = ClientHandshake(
            s.host, s.path, key=s.key, origin=s.origin, protocols=s.protocols, extensions=s.extensions,
            version=s.fault("client.ws_version") or "13",
            extra=[("Cookie", s.cookie)] if s.cookie else (), mask_key=lambda: rand(4))

    @property
    def conn(self) -> Connection | None:
        return self.handshake.connection

    def request(self) -> bytes:
        request = self.handshake.request
        omit = self.s.fault("client.omit_header")
        if omit:  # hook: leave one header out
            lines = request.split(b"\r\n")
            request = b"\r\n".join(ln for ln in lines
                                   if not ln.lower().startswith(omit.lower().encode() + b":"))
        return request

    def send(self, m: Message) -> list[Outgoing]:
        """The frame ``m`` describes, as the client writes it."""
        conn = self.conn
        mask = bytes.fromhex(m.mask) if m.mask else None
        payload = m.payload()
        if m.fault:  # hook: a frame the rules forbid, written as it is
            conn.send_frame(wf.Frame(OPCODES[m.kind], payload, fin=m.fin, rsv1=m.fault == "rsv1",
                                     rsv2=m.fault == "rsv2", rsv3=m.fault == "rsv3",
                                     mask_key=None if m.fault == "unmasked" else mask or self.rand(4)))
        elif m.kind == "close":
            conn.send_close(m.code, m.data, mask_key=mask)
        elif m.kind == "ping":
            conn.send_ping(payload, mask_key=mask)
        elif m.kind == "pong":
            conn.send_pong(payload, mask_key=mask)
        elif m.kind == "continuation":
            conn.send_continuation(payload, m.fin, mask_key=mask)
        elif m.kind == "text":
            conn.send_text(payload, fin=m.fin, mask_key=mask)
        else:
            conn.send_binary(payload, fin=m.fin, mask_key=mask)
        return conn.frames_to_send()

    def receive(self, data: bytes) -> tuple[list[Event], list[Outgoing]]:
        """The server's bytes: what happened, and what the client answers (a pong, a Close)."""
        self.conn.receive_data(data)
        return self.conn.events(), self.conn.frames_to_send()


class PairServer:
    """The pair's server: checks every frame with the core's rules, echoes each
    message (or acknowledges it), answers pings and Closes."""

    def __init__(self, s: Settings, first_connection: bool) -> None:
        from wssviz.core.deflate import DeflateParams

        self.s = s
        self.first_connection = first_connection
        self.pongs = 0
        self.handshake = ServerHandshake(
            allowed_origins=s.allowed_origins, supported_protocols=s.server_protocols,
            deflate=DeflateParams(**s.deflate) if s.deflate is not None else None, max_size=s.max_message)

    @property
    def conn(self) -> Connection | None:
        return self.handshake.connection

    def answer(self, request: bytes) -> bytes:
        """The response to the client's request head."""
        from wssviz.core import handshake as hs

        self.handshake.receive_data(request)
        accept = self.s.fault("server.accept")
        if self.handshake.ok and accept:  # hook: a wrong Sec-WebSocket-Accept
            return hs.build_response(self.handshake.check, accept=accept)
        return self.handshake.response

    def turn(self, data: bytes) -> tuple[str, list[Event], list[Outgoing]]:
        """The client's bytes in; returns ``ok``, ``closing`` (a Close went out, or
        the connection failed) or ``dropped`` (the drop-on-close hook), what
        happened, and the frames to send."""
        conn = self.conn
        conn.receive_data(data)
        events: list[Event] = []
        state = "ok"
        while (e := conn.next_event()) is not None:  # each message answered before what follows it
            events.append(e)
            if isinstance(e, MessageReceived) and conn.state == State.OPEN:
                self._reply(e.message)
            elif isinstance(e, Failed) or conn.close_received is not None:
                state = "closing"
        if conn.close_received is not None and self.s.fault("server.drop_on_close"):
            conn.frames_to_send()  # hook: vanish instead of answering
            return "dropped", events, []
        return state, events, self._filter(conn.frames_to_send())

    def _reply(self, message: wf.Message) -> None:
        data, op = message.data, message.opcode
        if self.s.reply == "ack":
            data, op = f"received {message.size} bytes".encode(), wf.Opcode.TEXT
        if op == wf.Opcode.TEXT:
            self.conn.send_text(data)
        else:
            self.conn.send_binary(data)

    def _filter(self, frames: list[Outgoing]) -> list[Outgoing]:
        limit = self.s.fault("server.ignore_pings")
        out = []
        for o in frames:
            if o.frame.opcode == wf.Opcode.PONG:
                if limit is not None and self.first_connection and self.pongs >= limit:
                    continue  # hook: the pong that never comes
                self.pongs += 1
            out.append(o)
        return out
