"""Above TLS: the HTTP Upgrade, the Accept computation and WebSocket frames.

``AppLayer`` takes the application bytes of each direction (decrypted, or as
they crossed for ws://) together with the TLS record that carried them, and
returns Steps.  A step's ``wire`` is every record that carried any byte of it;
its ``data`` is the unit itself: the HTTP head, or the frame as its sender wrote
it (still masked).

Phases per connection: ``http`` (request, then response) → ``ws`` after a 101
→ ``closed`` after both close frames; ``body`` when the response refused the
upgrade (the rest is an HTTP body, not frames).
"""

from __future__ import annotations


from wssviz.core import frames as wf
from wssviz.core import handshake as hs
from wssviz.dissect.build import StepMaker, elide, text_preview
from wssviz.steps import Field, Step, computed

SIDE = {"c2s": "client", "s2c": "server"}
OTHER = {"client": "server", "server": "client"}
ARROW = {"c2s": "client → server", "s2c": "server → client"}
XOR_LANE_MAX = 64  # bytes of a masked payload shown lane by lane
PREVIEW = 64  # bytes of a payload shown in a field value
MAX_FRAME = 64 * 2**20 + 14  # the largest frame wssviz reads (payload limit + header)


def _frame_size(buf: bytearray) -> int | None:
    """The whole size of the frame that starts ``buf``, once its header is in."""
    if len(buf) < 2:
        return None
    n, masked = buf[1] & 0x7F, buf[1] & 0x80
    ext = {126: 2, 127: 8}.get(n, 0)
    head = 2 + ext + (4 if masked else 0)
    if len(buf) < head:
        return None
    if ext:
        n = int.from_bytes(buf[2:2 + ext], "big")
    return head + n


class _Stream:
    """One direction's application bytes and the records they came in."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.offset = 0  # stream offset of buf[0]
        self.carriers: list[tuple[int, int, bytes]] = []  # (start, end, record) in stream offsets

    def add(self, data: bytes, record: bytes) -> None:
        start = self.offset + len(self.buf)
        self.buf += data
        self.carriers.append((start, start + len(data), record))

    def take(self, n: int) -> tuple[bytes, bytes]:
        """Consume ``n`` bytes: (the bytes, the records that carried any of them)."""
        start, end = self.offset, self.offset + n
        unit = bytes(self.buf[:n])
        del self.buf[:n]
        self.offset = end
        wire = b"".join(rec for s, e, rec in self.carriers if s < end and e > start)
        self.carriers = [c for c in self.carriers if c[1] > end]
        return unit, wire


class AppLayer:
    def __init__(self, scheme: str, maker: StepMaker) -> None:
        self.scheme = scheme
        self.maker = maker
        self.streams = {"c2s": _Stream(), "s2c": _Stream()}
        self.phase = {"c2s": "http", "s2c": "http"}
        self.key: str | None = None
        self.offered_protocols: list[str] = []
        self.offered_extensions: str | None = None
        self.assemblers = {"c2s": wf.MessageAssembler(), "s2c": wf.MessageAssembler()}
        self.deflate: dict[str, object] = {}
        self.closes: set[str] = set()  # directions that sent a close frame
        self.refused = False  # the upgrade was refused or its Accept check failed
        self.plain_http = False  # the request was a plain HTTP request (no Upgrade): a page fetch
        self.requests = 0  # HTTP request heads read from the client (0 or 1: the upgrade)

    # -- input -------------------------------------------------------------------

    def feed(self, direction: str, data: bytes, record: bytes, time: float) -> list[Step]:
        st = self.streams[direction]
        st.add(data, record if self.scheme == "wss" else data)
        steps: list[Step] = []
        while st.buf:
            phase = self.phase[direction]
            if phase == "http":
                got = self._http(direction, time)
            elif phase == "ws":
                got = self._frame(direction, time)
            else:
                got = self._trailing(direction, time)
            if got is None:
                break
            steps += got
        return steps

    def finish(self, time: float) -> list[Step]:
        steps = []
        for direction, st in self.streams.items():
            if st.buf:
                what = "an HTTP head" if self.phase[direction] == "http" else "a WebSocket frame"
                steps.append(self._error("ws" if self.phase[direction] == "ws" else "http",
                                         f"the connection ended inside {what} ({len(st.buf)} bytes left over)",
                                         "RFC 6455 §5.2", st.offset, SIDE[direction], time, status="warning"))
        return steps

    # -- HTTP ----------------------------------------------------------------------

    def _http(self, direction: str, time: float) -> list[Step] | None:
        st = self.streams[direction]
        try:
            n = hs.head_length(bytes(st.buf))
        except hs.HandshakeError as exc:
            self.phase[direction] = "body"
            return [self._error("http", exc.rule, exc.rfc, st.offset + exc.offset, SIDE[direction], time)]
        if n is None:
            return None
        head, wire = st.take(n)
        if direction == "c2s":
            return self._request(head, wire, time)
        return self._response(head, wire, time)

    def _header_fields(self, msg: "hs.Request | hs.Response", first: str) -> list[Field]:
        line = msg.head[:msg.line_end].decode("latin-1").rstrip("\r\n")
        fields = [Field(first, line, 0, msg.line_end, "data")]
        headers = Field("headers", f"{len(msg.headers)} header lines", msg.line_end,
                        max(msg.line_end, len(msg.head) - 2), "data")
        for h in msg.headers:
            child = headers.add(Field(h.name, h.value, h.start, h.end, "data"))
            child.add(Field("value", h.value, h.value_start, h.value_end, "data"))
        fields.append(headers)
        return fields

    @property
    def asks_upgrade(self) -> bool | None:
        """Whether the client's request asked to switch to WebSocket (an Upgrade header
        or a Sec-WebSocket-Key, even a broken one); None before a request is read."""
        return None if not self.requests else not self.plain_http

    def _request(self, head: bytes, wire: bytes, time: float) -> list[Step]:
        self.requests += 1
        try:
            req = hs.parse_request(head)
        except hs.HandshakeError as exc:
            self.phase["c2s"] = "body"
            return [self._error("http", exc.rule, exc.rfc, exc.offset, "client", time, wire=wire, data=head)]
        self.key = req.get("Sec-WebSocket-Key")
        self.offered_protocols = req.tokens("Sec-WebSocket-Protocol")
        self.offered_extensions = req.get("Sec-WebSocket-Extensions")
        fields = self._header_fields(req, "request line")
        via = "inside TLS" if self.scheme == "wss" else "in the clear"
        if req.header("Upgrade") is None and self.key is None:
            # Not a handshake at all (e.g. a browser fetching the page that will open
            # the WebSocket): shown as what it is, not as a broken upgrade.
            self.plain_http = True
            self.phase["c2s"] = "body"
            fields.append(computed("note", "no Upgrade header: a plain HTTP request, not a WebSocket "
                                           "handshake"))
            return [self.maker.make("http.upgrade_request", "c2s", f"HTTP request: {req.method} {req.target}",
                                    f"{req.method} {req.target}: a plain HTTP request, no upgrade ({via})",
                                    wire=wire, data=head, fields=fields, time=time)]
        check = hs.check_request(req)
        status = "ok"
        for p in check.problems:
            fields.append(computed("problem", f"{p.detail} ({p.rfc})"))
            status = "error"
        summary = f"{req.method} {req.target}, asking to switch to WebSocket ({via})"
        missing = [p.missing for p in check.problems if p.missing]
        if missing:
            # the catalog names the header through this field, in every language
            fields.append(computed("missing header", ", ".join(missing)))
            summary += f", but without the {', '.join(missing)} header" + ("s" if len(missing) > 1 else "")
        elif check.problems:
            summary += f", but breaking a rule: {check.problems[0].rule}"
        self.phase["c2s"] = "wait"
        return [self.maker.make("http.upgrade_request", "c2s", f"Upgrade request: {req.method} {req.target}",
                                summary, wire=wire, data=head, fields=fields, status=status, time=time)]

    def _accept(self, key: str, time: float, *, by_server: bool = True) -> Step:
        """The Accept derivation, every intermediate.  ``by_server``: the server's
        answer carries this very value, so the step shows the server computing it;
        otherwise it is the value the client expects (its Accept check judges what
        the server sent instead)."""
        d = hs.derive_accept(key)
        fields = [
            computed("Sec-WebSocket-Key", key),
            computed("decoded key", d.key_bytes.hex() if d.key_bytes is not None
                     else "not valid base64 of 16 bytes"),
            computed("GUID", hs.GUID),
            computed("key + GUID", d.joined.decode("latin-1")),
            computed("SHA-1", d.digest.hex()),
            computed("Sec-WebSocket-Accept", d.accept),
        ]
        if by_server:
            direction, title = "server", "Sec-WebSocket-Accept computed"
            summary = f"SHA-1(key + GUID) in base64 = {d.accept}"
        else:
            direction, title = "client", "Sec-WebSocket-Accept expected"
            summary = f"the value the client expects: SHA-1(key + GUID) in base64 = {d.accept}"
        return self.maker.make("ws.accept", direction, title, summary, data=d.joined,
                               fields=fields, status="ok" if d.key_bytes is not None else "warning",
                               time=time)

    def _response(self, head: bytes, wire: bytes, time: float) -> list[Step]:
        try:
            resp = hs.parse_response(head)
        except hs.HandshakeError as exc:
            self.phase["s2c"] = "body"
            return [self._error("http", exc.rule, exc.rfc, exc.offset, "server", time, wire=wire, data=head)]
        fields = self._header_fields(resp, "status line")
        fields.insert(1, computed("status code", f"{resp.status} {resp.reason}"))
        if self.plain_http:
            self.phase = {"c2s": "body", "s2c": "body"}
            return [self.maker.make("http.upgrade_response", "s2c", f"HTTP response: {resp.status} {resp.reason}",
                                    f"{resp.status} {resp.reason}: a plain HTTP answer to a plain request",
                                    wire=wire, data=head, fields=fields,
                                    status="ok" if resp.status < 400 else "warning", time=time)]
        upgraded = resp.status == 101
        problems = self._response_problems(resp) if upgraded else []
        expected = hs.derive_accept(self.key).accept if upgraded and self.key is not None else None
        # The server derived its Accept after reading the request and before this
        # answer: shown there only when the answer proves it did (a refusal computes
        # none, a wrong value shows it did not).  Otherwise the derivation is the
        # client's, of the value it expects, right before its check.
        server_derived = expected is not None and resp.get("Sec-WebSocket-Accept") == expected
        if not upgraded:
            status, summary = "error", f"{resp.status} {resp.reason}: the server refused the upgrade"
        elif not problems:
            status, summary = "ok", f"{resp.status} {resp.reason}: the connection now speaks WebSocket"
        else:
            status = "error"
            why = ("its Sec-WebSocket-Accept does not match the client's key"
                   if expected is not None and not server_derived else problems[0].rule)
            summary = f"{resp.status} {resp.reason}, but {why}: the client will fail the connection"
        if expected is not None and not server_derived:
            fields.append(computed("expected Accept", expected))
        steps: list[Step] = []
        if server_derived:
            steps.append(self._accept(self.key, time))
        steps.append(self.maker.make("http.upgrade_response", "s2c", f"Upgrade response: {resp.status} {resp.reason}",
                                     summary, wire=wire, data=head, fields=fields, status=status, time=time))
        if expected is not None and not server_derived:
            steps.append(self._accept(self.key, time, by_server=False))
        if upgraded:
            steps.append(self._accept_check(resp, problems, time))
            ok = steps[-1].status == "ok"
        else:
            ok = False
        if ok:
            self.phase = {"c2s": "ws", "s2c": "ws"}
            ext = resp.get("Sec-WebSocket-Extensions")
            if ext:
                self._setup_deflate(ext)
        else:
            self.phase = {"c2s": "body", "s2c": "body"}
            self.refused = True
        return steps

    def _response_problems(self, resp: "hs.Response") -> list["hs.Problem"]:
        """What makes the client reject a 101 (RFC 6455 §4.1)."""
        return hs.check_response(resp, key=self.key or "", offered_protocols=self.offered_protocols,
                                 offered_extensions=self.offered_extensions)

    def _accept_check(self, resp: "hs.Response", problems: list["hs.Problem"], time: float) -> Step:
        expected = hs.derive_accept(self.key).accept if self.key else "(no key was sent)"
        received = resp.get("Sec-WebSocket-Accept") or "(missing)"
        match = expected == received
        fields = [computed("expected", expected), computed("received", received),
                  computed("verdict", "ok: they match" if match else "FAILED: they differ")]
        proto = resp.get("Sec-WebSocket-Protocol")
        if proto is not None or self.offered_protocols:
            fields.append(computed("subprotocol", proto if proto is not None else "none chosen"))
        for p in problems:
            fields.append(computed("problem", f"{p.detail} ({p.rfc})"))
        status = "ok" if not problems else "error"
        summary = ("Accept matches the key: the server really speaks WebSocket" if status == "ok"
                   else "the client fails the connection: " + "; ".join(p.detail for p in problems))
        return self.maker.make("ws.accept_check", "client",
                               "Accept check" + (" failed" if status != "ok" else ""), summary,
                               data=(self.key or "").encode(), fields=fields, status=status, time=time)

    def _setup_deflate(self, ext: str) -> None:
        from wssviz.core import deflate

        offer = deflate.parse_offer(self.offered_extensions or "")
        if offer is None:
            return
        try:
            if not any(n.lower() == deflate.EXTENSION for n, _ in deflate.parse_extensions(ext)):
                return
            params = deflate.accept_response(offer, ext)
        except hs.HandshakeError:
            return  # the Accept check already reported the response as broken
        self.deflate = {"c2s": deflate.Decompressor(params, "server"),
                        "s2c": deflate.Decompressor(params, "client")}

    def _trailing(self, direction: str, time: float) -> list[Step] | None:
        st = self.streams[direction]
        if self.phase[direction] == "wait":
            return None  # the client waits for the response before sending frames
        # after a refused upgrade or a close: bytes that are not frames
        data, wire = st.take(len(st.buf))
        if self.phase[direction] == "body":
            return []  # an HTTP body: already part of what the response said
        return [self._error("ws", f"{len(data)} bytes after the close frame", "RFC 6455 §5.5.1",
                            st.offset - len(data), SIDE[direction], time, wire=wire, data=data,
                            status="warning")]

    # -- frames --------------------------------------------------------------------

    def _frame(self, direction: str, time: float) -> list[Step] | None:
        st = self.streams[direction]
        need = _frame_size(st.buf)
        if need is not None and need > MAX_FRAME:
            self.phase[direction] = "closed"
            rule = (f"frame announces {need} bytes, above the limit of {MAX_FRAME}"
                    if need < 1 << 63 else "64-bit length with the most significant bit set")
            return [self._error("ws", rule, "RFC 6455 §5.2, §7.4.1", st.offset, SIDE[direction], time,
                                close_code=1009 if need < 1 << 63 else 1002)]
        if need is None or len(st.buf) < need:
            return None
        try:
            parsed = wf.parse_frame(bytes(st.buf[:need]))
        except wf.ProtocolError as exc:
            self.phase[direction] = "closed"
            return [self._error("ws", exc.rule, exc.rfc, st.offset + exc.offset, SIDE[direction], time,
                                close_code=exc.close_code)]
        if parsed is None:
            return None
        frame, layout = parsed
        data, wire = st.take(layout.end)
        return self._frame_step(direction, frame, layout, data, wire, time)

    def _frame_step(self, direction: str, frame: wf.Frame, layout: "wf.FrameLayout", data: bytes,
                    wire: bytes, time: float) -> list[Step]:
        sender = SIDE[direction]
        op = frame.opcode
        opname = wf.OPCODE_NAMES.get(op, "reserved")
        f: list[Field] = [
            Field("FIN", f"{int(frame.fin)} ({'final frame of the message' if frame.fin else 'more frames follow'})",
                  0, 1, "data"),
            Field("RSV1", f"{int(frame.rsv1)}" + (" (compressed)" if frame.rsv1 and self.deflate else ""),
                  0, 1, "data"),
            Field("RSV2", str(int(frame.rsv2)), 0, 1, "data"),
            Field("RSV3", str(int(frame.rsv3)), 0, 1, "data"),
            Field("opcode", f"0x{op:x} {opname}", 0, 1, "data"),
            Field("MASK", "1 (masked)" if frame.masked else "0 (not masked)", 1, 2, "data"),
            Field("payload length", f"{len(frame.payload)} ({layout.length_form}-bit form)", 1, 2, "data"),
        ]
        if layout.length_form != 7:
            s, e = layout.length_span
            f.append(Field("extended payload length", str(len(frame.payload)), s, e, "data"))
        ps, pe = layout.payload_span
        if frame.masked:
            ms, me = layout.mask_span
            key_field = Field("masking key", frame.mask_key.hex(), ms, me, "data")
            if frame.mask_key == wf.RFC_EXAMPLE_MASK:
                # a fixed key, chosen so the bytes match the RFC; the catalog says so
                key_field.add(computed("example key", "RFC 6455 §5.7"))
            f.append(key_field)
        f.append(Field("payload", elide(data[ps:pe], PREVIEW // 2) or "(empty)", ps, pe, "data"))
        payload = frame.payload
        status = "ok"
        problems = wf.frame_problems(frame, layout, sender=sender, rsv1_allowed=bool(self.deflate))
        if frame.rsv1 and self.deflate and op in (wf.Opcode.TEXT, wf.Opcode.BINARY):
            try:
                payload = self.deflate[direction].decompress(payload)
                f.append(computed("inflated payload", f"{len(frame.payload)} → {len(payload)} bytes"))
            except wf.ProtocolError as exc:
                problems.append(exc)
        shown = self._payload_value(op, payload)
        f.append(computed("unmasked payload" if frame.masked else "application data", shown))
        if op == wf.Opcode.CLOSE:
            try:
                code, reason = wf.parse_close(frame.payload)
                f.append(computed("close code", wf.close_code_name(code) if code is not None else "none"))
                f.append(computed("close reason", reason))
            except wf.ProtocolError as exc:
                problems.append(exc)
            self.closes.add(direction)
            self.phase[direction] = "closed"
        if frame.masked:
            f.append(self._xor_lane(frame, layout, data))
        if op in (wf.Opcode.TEXT, wf.Opcode.BINARY, wf.Opcode.CONT) or op >= 8:
            try:
                msg = self.assemblers[direction].feed(wf.Frame(op, payload, fin=frame.fin))
                if msg is not None and msg.frames > 1 and op < 8:
                    f.append(computed("message", f"{msg.frames} frames reassembled: "
                                      + self._payload_value(msg.opcode, msg.data)))
            except wf.ProtocolError as exc:
                problems.append(exc)
        for p in problems:
            f.append(computed("problem", f"{p.rule} ({p.rfc}); close code {p.close_code}"))
            status = "error"
        title = f"{opname.capitalize()} frame" if opname != "reserved" else f"Frame with reserved opcode {op}"
        masked = f"masked with {frame.mask_key.hex()}" if frame.masked else "not masked"
        summary = f"{ARROW[direction]}: {opname} {shown}, {masked}"
        if len(summary) > 160:
            summary = summary[:157] + "…"
        return [self.maker.make("ws.frame", direction, title, summary, wire=wire, data=data,
                                fields=f, status=status, time=time)]

    @staticmethod
    def _payload_value(op: int, payload: bytes) -> str:
        if op in (wf.Opcode.TEXT,) or op in (wf.Opcode.PING, wf.Opcode.PONG):
            try:
                return '"' + text_preview(payload.decode("utf-8")) + '"'
            except UnicodeDecodeError:
                return f"{elide(payload, PREVIEW)} (not valid UTF-8)"
        if op == wf.Opcode.CLOSE:
            try:
                code, reason = wf.parse_close(payload)
            except wf.ProtocolError:
                return elide(payload, PREVIEW) or "(empty)"
            if code is None:
                return "without a status code"
            return wf.close_code_name(code) + (f' "{text_preview(reason)}"' if reason else "")
        return f"{len(payload)} bytes: {elide(payload, PREVIEW // 2)}" if payload else "(empty)"

    @staticmethod
    def _xor_lane(frame: wf.Frame, layout: "wf.FrameLayout", data: bytes) -> Field:
        ps, pe = layout.payload_span
        key = frame.mask_key
        n = min(XOR_LANE_MAX, pe - ps)
        lane = computed("xor lane", f"key byte ⊕ payload byte = masked byte (first {n} of {pe - ps})")
        for i in range(n):
            p = frame.payload[i]
            ch = chr(p) if 32 <= p < 127 else "·"
            lane.add(Field(f"byte {i}", f"0x{key[i % 4]:02x} ⊕ 0x{p:02x} '{ch}' = 0x{data[ps + i]:02x}",
                           ps + i, ps + i + 1, "data"))
        return lane

    # -- errors --------------------------------------------------------------------

    def _error(self, layer: str, rule: str, rfc: str, offset: int, by: str, time: float, *,
               wire: bytes = b"", data: bytes = b"", status: str = "error",
               close_code: int | None = None) -> Step:
        action = f"fail the connection with close code {close_code}" if close_code else "stop reading this stream"
        # ``by`` sent the offending bytes; the side reading them notices
        return self.maker.error(layer, rule, rfc, offset, OTHER[by], time, blame=by, wire=wire, data=data,
                                status=status,
                                action=action)
