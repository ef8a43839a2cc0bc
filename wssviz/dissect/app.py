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
from wssviz.steps import Field, Msg, Step, computed

SIDE = {"c2s": "client", "s2c": "server"}
OTHER = {"client": "server", "server": "client"}
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
                in_head = self.phase[direction] == "http"
                rule = Msg("rule.http.ended_in_head" if in_head else "rule.ws.ended_in_frame", n=len(st.buf))
                steps.append(self._error("http" if in_head else "ws", rule, "RFC 6455 §5.2", st.offset,
                                         SIDE[direction], time, status="warning"))
        return steps

    # -- HTTP ----------------------------------------------------------------------

    def _http(self, direction: str, time: float) -> list[Step] | None:
        st = self.streams[direction]
        try:
            n = hs.head_length(bytes(st.buf))
        except hs.HandshakeError as exc:
            self.phase[direction] = "body"
            return [self._error("http", exc.msg, exc.rfc, st.offset + exc.offset, SIDE[direction], time)]
        if n is None:
            return None
        head, wire = st.take(n)
        if direction == "c2s":
            return self._request(head, wire, time)
        return self._response(head, wire, time)

    def _header_fields(self, msg: "hs.Request | hs.Response", first: str) -> list[Field]:
        line = msg.head[:msg.line_end].decode("latin-1").rstrip("\r\n")
        fields = [Field(f"http.{first}", line, 0, msg.line_end, "data", raw=line)]
        headers = Field("http.headers", Msg("value.count_headers", n=len(msg.headers)), msg.line_end,
                        max(msg.line_end, len(msg.head) - 2), "data", raw=len(msg.headers))
        for h in msg.headers:
            child = headers.add(Field("http.header", h.value, h.start, h.end, "data", raw=h.value,
                                      name=h.name))
            child.add(Field("http.header.value", h.value, h.value_start, h.value_end, "data", raw=h.value))
        fields.append(headers)
        return fields

    @property
    def asks_upgrade(self) -> bool | None:
        """Whether the client's request asked to switch to WebSocket (an Upgrade header
        or a Sec-WebSocket-Key, even a broken one); None before a request is read."""
        return None if not self.requests else not self.plain_http

    def _via(self) -> Msg:
        return Msg("via.tls" if self.scheme == "wss" else "via.clear")

    def _problem(self, p: "hs.Problem") -> Field:
        return computed("http.problem", Msg("value.problem", rule=p.msg, rfc=p.rfc), raw=p.code)

    def _request(self, head: bytes, wire: bytes, time: float) -> list[Step]:
        self.requests += 1
        try:
            req = hs.parse_request(head)
        except hs.HandshakeError as exc:
            self.phase["c2s"] = "body"
            return [self._error("http", exc.msg, exc.rfc, exc.offset, "client", time, wire=wire, data=head)]
        self.key = req.get("Sec-WebSocket-Key")
        self.offered_protocols = req.tokens("Sec-WebSocket-Protocol")
        self.offered_extensions = req.get("Sec-WebSocket-Extensions")
        fields = self._header_fields(req, "request_line")
        facts: dict = {"method": req.method, "extensions": self.offered_extensions is not None or None,
                       "extensions_value": self.offered_extensions,
                       "cookie": req.get("Cookie") is not None or None,
                       "origin": req.get("Origin")}
        if req.header("Upgrade") is None and self.key is None:
            # Not a handshake at all (e.g. a browser fetching the page that will open
            # the WebSocket): shown as what it is, not as a broken upgrade.
            self.plain_http = True
            self.phase["c2s"] = "body"
            fields.append(computed("http.note", Msg("value.plain_request"), raw="plain"))
            facts["plain"] = True
            return [self.maker.make("http.upgrade_request", "c2s",
                                    Msg("title.http_request", method=req.method, target=req.target),
                                    Msg("summary.plain_request", method=req.method, target=req.target,
                                        via=self._via()),
                                    wire=wire, data=head, fields=fields, time=time, facts=facts)]
        check = hs.check_request(req)
        status = "ok"
        for p in check.problems:
            fields.append(self._problem(p))
            status = "error"
        missing = [p.missing for p in check.problems if p.missing]
        if missing:
            # the catalog names the header through this field, in every language
            fields.append(computed("http.missing_header", Msg("value.list", items=missing), raw=missing))
            facts["missing"] = missing
        summary = Msg("summary.upgrade_request", method=req.method, target=req.target, via=self._via(),
                      missing=missing or None,
                      broken=check.problems[0].msg if check.problems and not missing else None)
        self.phase["c2s"] = "wait"
        return [self.maker.make("http.upgrade_request", "c2s",
                                Msg("title.upgrade_request", method=req.method, target=req.target),
                                summary, wire=wire, data=head, fields=fields, status=status, time=time,
                                facts=facts)]

    def _accept(self, key: str, time: float, *, by_server: bool = True) -> Step:
        """The Accept derivation, every intermediate.  ``by_server``: the server's
        answer carries this very value, so the step shows the server computing it;
        otherwise it is the value the client expects (its Accept check judges what
        the server sent instead)."""
        d = hs.derive_accept(key)
        fields = [
            computed("ws.accept.key", key, raw=key),
            computed("ws.accept.decoded_key", d.key_bytes.hex() if d.key_bytes is not None
                     else Msg("value.key_not_16"), raw=d.key_bytes),
            computed("ws.accept.guid", hs.GUID, raw=hs.GUID),
            computed("ws.accept.joined", d.joined.decode("latin-1"), raw=d.joined.decode("latin-1")),
            computed("ws.accept.sha1", d.digest.hex(), raw=d.digest),
            computed("ws.accept.accept", d.accept, raw=d.accept),
        ]
        if by_server:
            direction, title = "server", Msg("title.accept_computed")
            summary = Msg("summary.accept_computed", accept=d.accept)
        else:
            direction, title = "client", Msg("title.accept_expected")
            summary = Msg("summary.accept_expected", accept=d.accept)
        return self.maker.make("ws.accept", direction, title, summary, data=d.joined,
                               fields=fields, status="ok" if d.key_bytes is not None else "warning",
                               time=time, facts={"by_server": by_server, "scheme": self.scheme})

    def _response(self, head: bytes, wire: bytes, time: float) -> list[Step]:
        try:
            resp = hs.parse_response(head)
        except hs.HandshakeError as exc:
            self.phase["s2c"] = "body"
            return [self._error("http", exc.msg, exc.rfc, exc.offset, "server", time, wire=wire, data=head)]
        fields = self._header_fields(resp, "status_line")
        fields.insert(1, computed("http.status_code", f"{resp.status} {resp.reason}", raw=resp.status))
        facts: dict = {"status_code": resp.status,
                       "extensions": resp.get("Sec-WebSocket-Extensions") is not None or None,
                       "extensions_value": resp.get("Sec-WebSocket-Extensions"),
                       "protocol": resp.get("Sec-WebSocket-Protocol")}
        if self.plain_http:
            self.phase = {"c2s": "body", "s2c": "body"}
            facts["plain"] = True
            return [self.maker.make("http.upgrade_response", "s2c",
                                    Msg("title.http_response", status=resp.status, reason=resp.reason),
                                    Msg("summary.plain_response", status=resp.status, reason=resp.reason),
                                    wire=wire, data=head, fields=fields,
                                    status="ok" if resp.status < 400 else "warning", time=time, facts=facts)]
        upgraded = resp.status == 101
        problems = self._response_problems(resp) if upgraded else []
        expected = hs.derive_accept(self.key).accept if upgraded and self.key is not None else None
        # The server derived its Accept after reading the request and before this
        # answer: shown there only when the answer proves it did (a refusal computes
        # none, a wrong value shows it did not).  Otherwise the derivation is the
        # client's, of the value it expects, right before its check.
        server_derived = expected is not None and resp.get("Sec-WebSocket-Accept") == expected
        if not upgraded:
            status, summary = "error", Msg("summary.upgrade_refused", status=resp.status, reason=resp.reason)
        elif not problems:
            status, summary = "ok", Msg("summary.upgrade_ok", status=resp.status, reason=resp.reason)
        else:
            status = "error"
            why = (Msg("value.accept_differs") if expected is not None and not server_derived
                   else problems[0].msg)
            summary = Msg("summary.upgrade_broken", status=resp.status, reason=resp.reason, why=why)
        if expected is not None and not server_derived:
            fields.append(computed("http.expected_accept", expected, raw=expected))
        steps: list[Step] = []
        if server_derived:
            steps.append(self._accept(self.key, time))
        steps.append(self.maker.make("http.upgrade_response", "s2c",
                                     Msg("title.upgrade_response", status=resp.status, reason=resp.reason),
                                     summary, wire=wire, data=head, fields=fields, status=status, time=time,
                                     facts=facts))
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
        expected = hs.derive_accept(self.key).accept if self.key else None
        received = resp.get("Sec-WebSocket-Accept")
        match = expected is not None and expected == received
        fields = [computed("ws.accept_check.expected", expected or Msg("value.no_key"), raw=expected),
                  computed("ws.accept_check.received", received if received is not None
                           else Msg("value.missing"), raw=received),
                  computed("ws.accept_check.verdict", Msg("verdict.accept_match" if match else
                                                          "verdict.accept_differ"), raw=match)]
        proto = resp.get("Sec-WebSocket-Protocol")
        if proto is not None or self.offered_protocols:
            fields.append(computed("ws.accept_check.subprotocol", proto if proto is not None
                                   else Msg("value.none_chosen"), raw=proto))
        for p in problems:
            fields.append(self._problem(p))
        status = "ok" if not problems else "error"
        summary = (Msg("summary.accept_ok") if status == "ok"
                   else Msg("summary.accept_failed", problems=[p.msg for p in problems]))
        return self.maker.make("ws.accept_check", "client",
                               Msg("title.accept_check" if status == "ok" else "title.accept_check_failed"),
                               summary, data=(self.key or "").encode(), fields=fields, status=status,
                               time=time, facts={"scheme": self.scheme, "offered_protocols":
                                                 list(self.offered_protocols) or None,
                                                 "protocol": proto,
                                                 "problems": [p.code for p in problems] or None})

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
        return [self._error("ws", Msg("rule.ws.bytes_after_close", n=len(data)), "RFC 6455 §5.5.1",
                            st.offset - len(data), SIDE[direction], time, wire=wire, data=data,
                            status="warning")]

    # -- frames --------------------------------------------------------------------

    def _frame(self, direction: str, time: float) -> list[Step] | None:
        st = self.streams[direction]
        need = _frame_size(st.buf)
        if need is not None and need > MAX_FRAME:
            self.phase[direction] = "closed"
            rule = (Msg("rule.ws.frame_announces", n=need, limit=MAX_FRAME)
                    if need < 1 << 63 else Msg("rule.ws.length_top_bit"))
            return [self._error("ws", rule, "RFC 6455 §5.2, §7.4.1", st.offset, SIDE[direction], time,
                                close_code=1009 if need < 1 << 63 else 1002)]
        if need is None or len(st.buf) < need:
            return None
        try:
            parsed = wf.parse_frame(bytes(st.buf[:need]))
        except wf.ProtocolError as exc:
            self.phase[direction] = "closed"
            return [self._error("ws", exc.msg, exc.rfc, st.offset + exc.offset, SIDE[direction], time,
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
        opword = Msg(f"opcode.{opname}")
        compressed = bool(frame.rsv1 and self.deflate)
        f: list[Field] = [
            Field("ws.frame.fin", Msg("value.fin", fin=frame.fin), 0, 1, "data", raw=frame.fin),
            Field("ws.frame.rsv1", Msg("value.rsv1_compressed") if compressed else str(int(frame.rsv1)),
                  0, 1, "data", raw=frame.rsv1),
            Field("ws.frame.rsv2", str(int(frame.rsv2)), 0, 1, "data", raw=frame.rsv2),
            Field("ws.frame.rsv3", str(int(frame.rsv3)), 0, 1, "data", raw=frame.rsv3),
            Field("ws.frame.opcode", Msg("value.opcode", code=f"0x{op:x}", name=opword), 0, 1, "data", raw=op),
            Field("ws.frame.mask", Msg("value.mask", masked=frame.masked), 1, 2, "data", raw=frame.masked),
            Field("ws.frame.payload_length", Msg("value.payload_length", n=len(frame.payload),
                                                 form=layout.length_form), 1, 2, "data",
                  raw=len(frame.payload)),
        ]
        if layout.length_form != 7:
            s, e = layout.length_span
            f.append(Field("ws.frame.extended_payload_length", str(len(frame.payload)), s, e, "data",
                           raw=len(frame.payload)))
        ps, pe = layout.payload_span
        if frame.masked:
            ms, me = layout.mask_span
            key_field = Field("ws.frame.masking_key", frame.mask_key.hex(), ms, me, "data", raw=frame.mask_key)
            if frame.mask_key == wf.RFC_EXAMPLE_MASK:
                # a fixed key, chosen so the bytes match the RFC; the catalog says so
                key_field.add(computed("ws.frame.example_key", "RFC 6455 §5.7", raw=True))
            f.append(key_field)
        f.append(Field("ws.frame.payload", elide(data[ps:pe], PREVIEW // 2) if pe > ps else Msg("value.empty"),
                       ps, pe, "data"))
        payload = frame.payload
        status = "ok"
        problems = wf.frame_problems(frame, layout, sender=sender, rsv1_allowed=bool(self.deflate))
        if frame.rsv1 and self.deflate and op in (wf.Opcode.TEXT, wf.Opcode.BINARY):
            try:
                payload = self.deflate[direction].decompress(payload)
                f.append(computed("ws.frame.inflated", Msg("value.inflated", n=len(frame.payload),
                                                            m=len(payload)), raw=len(payload)))
            except wf.ProtocolError as exc:
                problems.append(exc)
        shown = self._payload_value(op, payload)
        f.append(computed("ws.frame.unmasked_payload" if frame.masked else "ws.frame.application_data",
                          shown, raw=None))
        facts: dict = {"opcode": op, "fin": frame.fin, "compressed": compressed or None,
                       "masked": frame.masked, "example_key": frame.mask_key == wf.RFC_EXAMPLE_MASK or None}
        if op == wf.Opcode.CLOSE:
            try:
                code, reason = wf.parse_close(frame.payload)
                f.append(computed("ws.frame.close_code", close_code_msg(code) if code is not None
                                  else Msg("value.none"), raw=code))
                f.append(computed("ws.frame.close_reason", reason, raw=reason))
                facts["close_code"] = code
            except wf.ProtocolError as exc:
                problems.append(exc)
            self.closes.add(direction)
            facts["first_close"] = len(self.closes) == 1
            self.phase[direction] = "closed"
        if frame.masked:
            f.append(self._xor_lane(frame, layout, data))
        if op in (wf.Opcode.TEXT, wf.Opcode.BINARY, wf.Opcode.CONT) or op >= 8:
            try:
                msg = self.assemblers[direction].feed(wf.Frame(op, payload, fin=frame.fin))
                if msg is not None and msg.frames > 1 and op < 8:
                    f.append(computed("ws.frame.message", Msg("value.reassembled", frames=msg.frames,
                                                              payload=self._payload_value(msg.opcode, msg.data)),
                                      raw=msg.frames))
                    facts["message_frames"] = msg.frames
                facts["message_open"] = self.assemblers[direction].in_message or None
            except wf.ProtocolError as exc:
                problems.append(exc)
        for p in problems:
            f.append(computed("ws.frame.problem", Msg("value.frame_problem", rule=p.msg, rfc=p.rfc,
                                                      code=p.close_code), raw=p.code))
            status = "error"
        if problems:
            facts["problems"] = [p.code for p in problems]
        title = (Msg(f"title.frame_{opname}") if opname != "reserved"
                 else Msg("title.frame_reserved", op=f"0x{op:x}"))
        summary = Msg("summary.frame", dir=Msg(f"dir.{direction}"), op=opword, shown=shown,
                      mask=Msg("value.masked_with", key=frame.mask_key.hex()) if frame.masked
                      else Msg("value.not_masked"))
        return [self.maker.make("ws.frame", direction, title, summary, wire=wire, data=data,
                                fields=f, status=status, time=time, facts=facts)]

    @staticmethod
    def _payload_value(op: int, payload: bytes) -> str | Msg:
        if op in (wf.Opcode.TEXT,) or op in (wf.Opcode.PING, wf.Opcode.PONG):
            try:
                return Msg("value.quoted", text=text_preview(payload.decode("utf-8")))
            except UnicodeDecodeError:
                return Msg("value.not_utf8", hex=elide(payload, PREVIEW))
        if op == wf.Opcode.CLOSE:
            try:
                code, reason = wf.parse_close(payload)
            except wf.ProtocolError:
                return elide(payload, PREVIEW) if payload else Msg("value.empty")
            if code is None:
                return Msg("value.close_no_code")
            return Msg("value.close", code=close_code_msg(code),
                       reason=Msg("value.quoted", text=text_preview(reason)) if reason else None)
        return Msg("value.binary", n=len(payload), hex=elide(payload, PREVIEW // 2)) if payload else Msg("value.empty")

    @staticmethod
    def _xor_lane(frame: wf.Frame, layout: "wf.FrameLayout", data: bytes) -> Field:
        ps, pe = layout.payload_span
        key = frame.mask_key
        n = min(XOR_LANE_MAX, pe - ps)
        lane = computed("ws.frame.xor_lane", Msg("value.xor_lane", n=n, total=pe - ps), raw=n)
        for i in range(n):
            p = frame.payload[i]
            ch = chr(p) if 32 <= p < 127 else "·"
            lane.add(Field("ws.frame.xor_lane.byte", f"0x{key[i % 4]:02x} ⊕ 0x{p:02x} '{ch}' = 0x{data[ps + i]:02x}",
                           ps + i, ps + i + 1, "data", raw=[key[i % 4], p, data[ps + i]], n=i))
        return lane

    # -- errors --------------------------------------------------------------------

    def _error(self, layer: str, rule: Msg, rfc: str, offset: int, by: str, time: float, *,
               wire: bytes = b"", data: bytes = b"", status: str = "error",
               close_code: int | None = None) -> Step:
        action = (Msg("action.close_code", code=close_code_msg(close_code)) if close_code
                  else Msg("action.stop_reading"))
        # ``by`` sent the offending bytes; the side reading them notices
        return self.maker.error(layer, rule, rfc, offset, OTHER[by], time, blame=by, wire=wire, data=data,
                                status=status, action=action,
                                facts={"close_code": close_code} if close_code else None)


close_code_msg = wf.close_code_word
