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

import codecs
import functools

from wssviz.core import frames as wf
from wssviz.core import handshake as hs
from wssviz.core.limits import LIMITS
from wssviz.dissect.build import StepMaker, elide, record_fields, split_records, text_preview
from wssviz.steps import Field, Msg, Step, computed

SIDE = {"c2s": "client", "s2c": "server"}
OTHER = {"client": "server", "server": "client"}
XOR_LANE_MAX = 64  # bytes of a masked payload shown lane by lane
PREVIEW = 64  # bytes of a payload shown in a field value
#: Bytes of a frame a step holds (its ``data``, and the records in ``wire`` that carried
#: them): a larger frame is read as it arrives, checked, inflated and reassembled
#: whole, and its step shows its first FRAME_KEEP bytes and how many more there were.
FRAME_KEEP = 1 << 16
#: Bytes of a reassembled message a step holds (``ws.frame.message_data``).
MESSAGE_KEEP = 1 << 16


class _Stream:
    """One direction's application bytes: the HTTP head being read (``buf``) and,
    for wss://, the TLS records that carried each byte (by stream offset)."""

    def __init__(self, scheme: str) -> None:
        self.tls = scheme == "wss"
        self.buf = bytearray()
        self.offset = 0  # stream offset of buf[0]
        self.total = 0  # bytes of the stream so far
        self.carriers: list[tuple[int, int, bytes, object]] = []  # (start, end, record, how), wss:// only
        self.last: list[tuple[bytes, object]] = []  # the records (and how each was opened) wire() last joined
        self.skip: tuple[int, int] | None = None  # a range no step will show (a large frame's middle)
        self.skipped = 0  # records in that range: counted, not kept

    def add(self, data: bytes, record: bytes, how: object = None) -> None:
        start = self.total
        self.total += len(data)
        if not self.tls:
            return
        if self.skip and self.skip[0] <= start and self.total <= self.skip[1]:
            self.skipped += 1
        else:
            self.carriers.append((start, self.total, record, how))

    def take(self, n: int) -> tuple[bytes, bytes]:
        """Consume ``n`` bytes of ``buf``: (the bytes, the records that carried any of them)."""
        start, end = self.offset, self.offset + n
        unit = bytes(self.buf[:n])
        del self.buf[:n]
        self.offset = end
        return unit, self.wire(start, end, unit, drop=True)

    def wire(self, start: int, end: int, data: bytes, *, drop: bool) -> bytes:
        """What crossed TCP for the stream bytes [start, end): the records that carried
        any of them (wss://), or those bytes themselves (ws://)."""
        if not self.tls:
            return data
        self.last = [(rec, how) for s, e, rec, how in self.carriers if s < end and e > start]
        wire = b"".join(rec for rec, _ in self.last)
        if drop:
            self.carriers = [c for c in self.carriers if c[1] > end]
        return wire

    def records(self, start: int, end: int) -> int:
        return sum(1 for s, e, _, _ in self.carriers if s < end and e > start)


class _Frame:
    """A frame being read: what its step will show."""

    def __init__(self, chunk: "wf.FrameChunk") -> None:
        self.head = chunk.frame
        self.layout = chunk.layout
        self.kept = bytearray()  # the frame's first FRAME_KEEP bytes as they crossed
        self.payload = bytearray()  # its first PREVIEW_BYTES of payload, unmasked
        self.shown = bytearray()  # of that, what the application gets (inflated)
        self.out = 0  # bytes the application gets from this frame (inflated size)
        self.problems: list[wf.ProtocolError] = []
        self.assembler_failed = False  # a broken rule stopped the message: the rest is not fed

    @property
    def size(self) -> int:
        return self.layout.end - self.layout.start


PREVIEW_BYTES = 4096  # unmasked payload kept per frame for its values and the XOR lane


class AppLayer:
    def __init__(self, scheme: str, maker: StepMaker) -> None:
        self.scheme = scheme
        self.maker = maker
        self.streams = {"c2s": _Stream(scheme), "s2c": _Stream(scheme)}
        self.readers: dict[str, wf.FrameReader] = {}  # per direction, once frames flow
        self.frames: dict[str, _Frame | None] = {"c2s": None, "s2c": None}  # a frame being read
        self._message_op: dict[str, int] = {}  # the opcode of each direction's open message
        self._message_compressed: dict[str, bool] = {}
        self.phase = {"c2s": "http", "s2c": "http"}
        self.key: str | None = None
        self.offered_protocols: list[str] = []
        self.offered_extensions: str | None = None
        self.assemblers = {d: self._assembler(d, None) for d in ("c2s", "s2c")}
        self.deflate: dict[str, object] = {}
        self.closes: set[str] = set()  # directions that sent a close frame
        self.refused = False  # the upgrade was refused or its Accept check failed
        self.plain_http = False  # the request was a plain HTTP request (no Upgrade): a page fetch
        self.requests = 0  # HTTP request heads read from the client (0 or 1: the upgrade)
        self.tls = None  # the TLS layer below (wss://): its cipher suite splits the records

    def _make(self, *args: object, **kwargs: object) -> Step:
        return self._with_wire(self.maker.make(*args, **kwargs))

    def _with_wire(self, step: Step) -> Step:
        """Label every byte of the step's wire: the TLS records that carried it, or on
        ws:// the bytes as TCP carried them (the same as ``data``)."""
        if self.maker.skim or not step.wire or any(f.of == "wire" for f in step.fields):
            return step
        if self.scheme == "wss":
            records = split_records(step.wire)
            fields = record_fields(records, [True] * len(records), getattr(self.tls, "suite", None))
            # how each record was opened (key, sequence number, nonce, tag), when the
            # records are the ones the stream last joined for this step
            last = self.streams[step.direction].last if step.direction in self.streams else []
            if self.tls is not None and len(last) == len(records):
                opened: list[Field] = []
                for f, rec, (carried, how) in zip(fields, records, last):
                    opened.append(f)
                    if how is not None and carried == rec:
                        opened.append(self.tls.decrypted_field(*how))
                fields = opened
            step.fields[:0] = fields
        else:
            step.fields.insert(0, Field("tcp.payload", Msg("value.tcp_payload", n=len(step.wire)), 0,
                                        len(step.wire), "wire", raw=len(step.wire)))
        return step

    # -- input -------------------------------------------------------------------

    def feed(self, direction: str, data: bytes, record: bytes, time: float, how: object = None) -> list[Step]:
        st = self.streams[direction]
        st.add(data, record, how)
        if direction in self.readers:
            self.readers[direction].feed(data)
        else:
            st.buf += data
        steps: list[Step] = []
        while True:
            phase = self.phase[direction]
            if phase == "ws":
                got = self._frame(direction, time)
            elif not st.buf:
                break
            elif phase == "http":
                got = self._http(direction, time)
            else:
                got = self._trailing(direction, time)
            if got is None:
                break
            steps += got
        return steps

    def finish(self, time: float) -> list[Step]:
        steps = []
        for direction, st in self.streams.items():
            reader = self.readers.get(direction)
            left = len(st.buf) + (reader.buffered if reader is not None else 0)
            frame = self.frames[direction]
            if frame is not None:  # inside a large frame: all of it so far
                left = reader.offset - frame.layout.start + reader.buffered
            if left:
                in_head = self.phase[direction] == "http"
                at = frame.layout.start if frame is not None else reader.offset if reader is not None else st.offset
                rule = Msg("rule.http.ended_in_head" if in_head else "rule.ws.ended_in_frame", n=left)
                steps.append(self._error("http" if in_head else "ws", rule, "RFC 6455 §5.2", at,
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
        """The head, every byte in a leaf: the first line's parts, each header's name,
        separator, value and line end, and the blank line that ends the head."""
        head = msg.head
        line = head[:msg.line_end].decode("latin-1").rstrip("\r\n")
        top = Field(f"http.{first}", line, 0, msg.line_end, "data", raw=line)
        pos = 0
        for i, part in enumerate(line.split(" ", 2)):
            if i:
                top.add(Field("http.sp", "SP", pos, pos + 1, "data", raw=" "))
                pos += 1
            pid = ("method", "target", "version")[i] if first == "request_line" else ("version", "status",
                                                                                     "reason")[i]
            top.add(Field(f"http.{pid}", part, pos, pos + len(part), "data", raw=part))
            pos += len(part)
        top.add(Field("http.crlf", "CRLF", pos, msg.line_end, "data", raw="\r\n"))
        fields = [top]
        headers = Field("http.headers", Msg("value.count_headers", n=len(msg.headers)), msg.line_end,
                        max(msg.line_end, len(head) - 2), "data", raw=len(msg.headers))
        for h in msg.headers:
            child = headers.add(Field("http.header", h.value, h.start, h.end, "data", raw=h.value,
                                      name=h.name))
            name_end = h.start + len(h.name)
            line_end = h.end - 2
            child.add(Field("http.header.name", h.name, h.start, name_end, "data", raw=h.name))
            child.add(Field("http.header.separator", Msg("value.header_separator"), name_end, h.value_start,
                            "data", raw=head[name_end:h.value_start].decode("latin-1")))
            child.add(Field("http.header.value", h.value, h.value_start, h.value_end, "data", raw=h.value))
            if line_end > h.value_end:
                child.add(Field("http.header.whitespace", Msg("value.bytes", n=line_end - h.value_end),
                                h.value_end, line_end, "data", raw=line_end - h.value_end))
            child.add(Field("http.crlf", "CRLF", line_end, h.end, "data", raw="\r\n"))
        fields.append(headers)
        fields.append(Field("http.blank_line", Msg("value.blank_line"), len(head) - 2, len(head), "data",
                            raw="\r\n"))
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
            return [self._make("http.upgrade_request", "c2s",
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
        return [self._make("http.upgrade_request", "c2s",
                                Msg("title.upgrade_request", method=req.method, target=req.target),
                                summary, wire=wire, data=head, fields=fields, status=status, time=time,
                                facts=facts)]

    def _accept(self, key: str, time: float, *, by_server: bool = True) -> Step:
        """The Accept derivation, every intermediate.  ``by_server``: the server's
        answer carries this very value, so the step shows the server computing it;
        otherwise it is the value the client expects (its Accept check judges what
        the server sent instead)."""
        d = hs.derive_accept(key)
        k = len(key.encode("latin-1", "replace"))
        fields = [
            Field("ws.accept.key", key, 0, k, "data", raw=key),
            computed("ws.accept.decoded_key", d.key_bytes.hex() if d.key_bytes is not None
                     else Msg("value.key_not_16"), raw=d.key_bytes),
            Field("ws.accept.guid", hs.GUID, k, len(d.joined), "data", raw=hs.GUID),
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
        return self._make("ws.accept", direction, title, summary, data=d.joined,
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
            return [self._make("http.upgrade_response", "s2c",
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
        steps.append(self._make("http.upgrade_response", "s2c",
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
            ext = resp.get("Sec-WebSocket-Extensions")
            if ext:
                self._setup_deflate(ext)
            self.upgraded()
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
        fields = [Field("ws.accept_check.key", self.key or "", 0, len((self.key or "").encode()), "data",
                        raw=self.key),
                  computed("ws.accept_check.expected", expected or Msg("value.no_key"), raw=expected),
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
        return self._make("ws.accept_check", "client",
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
        # the largest frame and message wssviz reads are the process's limits (a frame
        # that announces more is refused from its header, 1009, as an endpoint would)
        limit = LIMITS.max_message
        self.deflate = {"c2s": deflate.Decompressor(params, "server", max_size=limit),
                        "s2c": deflate.Decompressor(params, "client", max_size=limit)}
        self.assemblers = {d: self._assembler(d, self.deflate[d]) for d in ("c2s", "s2c")}

    def _assembler(self, direction: str, inflater: object | None) -> wf.MessageAssembler:
        # a bound method, not a closure: a checkpoint's copy (Dissector.checkpoint)
        # must feed its own frames, and a copy of a partial binds the copied layer
        return wf.MessageAssembler(inflater=inflater, keep=MESSAGE_KEEP,
                                   on_data=functools.partial(self._seen, direction))

    def _seen(self, direction: str, data: bytes) -> None:
        """What the application gets of the frame being read (inflated)."""
        frame = self.frames[direction]
        if frame is not None:
            frame.out += len(data)
            if len(frame.shown) < PREVIEW_BYTES:
                frame.shown += data[:PREVIEW_BYTES - len(frame.shown)]

    def upgraded(self) -> None:
        """The upgrade succeeded: from here on both directions carry frames."""
        self.phase = {"c2s": "ws", "s2c": "ws"}
        for d in ("c2s", "s2c"):
            self._start_frames(d)

    def _start_frames(self, direction: str) -> None:
        """From here on, ``direction`` carries frames: what is buffered goes to a reader."""
        st = self.streams[direction]
        reader = wf.FrameReader(whole=FRAME_KEEP, base=st.offset)
        reader.feed(bytes(st.buf))
        st.buf.clear()
        self.readers[direction] = reader

    def _stop_frames(self, direction: str) -> None:
        """No more frames in ``direction`` (after its Close, or a frame too broken to
        go on): what follows is kept as bytes."""
        reader = self.readers.pop(direction, None)
        if reader is not None:
            st = self.streams[direction]
            st.offset = reader.offset
            st.buf += reader.take_rest()

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
        """The next piece of a frame, or a whole frame: a Step when a frame is complete."""
        reader = self.readers[direction]
        try:
            chunk = reader.next()
        except wf.ProtocolError as exc:  # a header no endpoint would read on (too big, 2^63)
            self.phase[direction] = "closed"
            at = reader.offset
            self._stop_frames(direction)
            st = self.streams[direction]
            st.buf.clear()  # the frame's bytes: never shown as frames
            return [self._error("ws", exc.msg, exc.rfc, exc.offset if exc.offset >= 0 else at,
                                SIDE[direction], time, close_code=exc.close_code)]
        if chunk is None:
            return None
        st = self.streams[direction]
        if chunk.first:
            frame = self.frames[direction] = _Frame(chunk)
            frame.problems = wf.frame_problems(chunk.frame, chunk.layout, sender=SIDE[direction],
                                               rsv1_allowed=bool(self.deflate))
            st.skipped = 0
            if not chunk.last:  # a large frame: its middle is checked, counted, not kept
                st.skip = (chunk.layout.start + FRAME_KEEP, chunk.layout.end)
        frame = self.frames[direction]
        room = FRAME_KEEP - len(frame.kept)
        if room > 0:
            frame.kept += chunk.raw[:room]
        room = PREVIEW_BYTES - len(frame.payload)
        if room > 0:
            frame.payload += chunk.frame.payload[:room]
        message = None
        if not frame.assembler_failed:
            try:
                message = self.assemblers[direction].feed_chunk(chunk)
            except wf.ProtocolError as exc:
                frame.problems.append(exc)
                frame.assembler_failed = True
        if not chunk.last:
            return []
        self.frames[direction] = None
        st.skip = None
        return self._frame_step(direction, frame, message, time)

    def _frame_step(self, direction: str, fr: _Frame, msg: "wf.Message | None", time: float) -> list[Step]:
        st = self.streams[direction]
        L = fr.layout
        head = fr.head
        data = bytes(fr.kept)
        wire = st.wire(L.start, L.start + len(data), data, drop=False)
        records = st.records(L.start, L.end) + st.skipped
        st.carriers = [c for c in st.carriers if c[1] > L.end]

        def rel(span: tuple[int, int]) -> tuple[int, int]:
            return (min(span[0], L.start + len(data)) - L.start, min(span[1], L.start + len(data)) - L.start)

        sender = SIDE[direction]
        op = head.opcode
        size = L.payload_span[1] - L.payload_span[0]
        opname = wf.OPCODE_NAMES.get(op, "reserved")
        opword = Msg(f"opcode.{opname}")
        compressed = bool(head.rsv1 and self.deflate) and op in (wf.Opcode.TEXT, wf.Opcode.BINARY)
        if self.maker.skim:
            # An outline: what a ladder and an index need (kind, direction, title,
            # status), with every effect on the connection's state; no fields.
            if op == wf.Opcode.CLOSE:
                self._close_effects(direction, fr, size)
            if op < 8:
                self._message_effects(direction, op, compressed)
            return [self.maker.make("ws.frame", direction, self._frame_title(op, opname), Msg("value.none"),
                                    status="error" if fr.problems else "ok", time=time)]
        in_compressed = compressed or (op == wf.Opcode.CONT and self._message_compressed.get(direction, False))
        f: list[Field] = [
            Field("ws.frame.fin", Msg("value.fin", fin=head.fin), 0, 1, "data", raw=head.fin),
            Field("ws.frame.rsv1", Msg("value.rsv1_compressed") if compressed else str(int(head.rsv1)),
                  0, 1, "data", raw=head.rsv1),
            Field("ws.frame.rsv2", str(int(head.rsv2)), 0, 1, "data", raw=head.rsv2),
            Field("ws.frame.rsv3", str(int(head.rsv3)), 0, 1, "data", raw=head.rsv3),
            Field("ws.frame.opcode", Msg("value.opcode", code=f"0x{op:x}", name=opword), 0, 1, "data", raw=op),
            Field("ws.frame.mask", Msg("value.mask", masked=head.masked), 1, 2, "data", raw=head.masked),
            Field("ws.frame.payload_length", Msg("value.payload_length", n=size, form=L.length_form), 1, 2, "data",
                  raw=size),
        ]
        if L.length_form != 7:
            s, e = rel(L.length_span)
            f.append(Field("ws.frame.extended_payload_length", str(size), s, e, "data", raw=size))
        ps, pe = rel(L.payload_span)
        if head.masked:
            ms, me = rel(L.mask_span)
            key_field = Field("ws.frame.masking_key", head.mask_key.hex(), ms, me, "data", raw=head.mask_key)
            if head.mask_key == wf.RFC_EXAMPLE_MASK:
                # a fixed key, chosen so the bytes match the RFC; the catalog says so
                key_field.add(Field("ws.frame.example_key", "RFC 6455 §5.7", ms, me, "data", raw=True))
            f.append(key_field)
        f.append(Field("ws.frame.payload", elide(data[ps:pe], PREVIEW // 2) if pe > ps else Msg("value.empty"),
                       ps, pe, "data"))
        if len(data) < fr.size:
            f.append(computed("ws.frame.not_shown", Msg("value.bytes_not_shown", n=fr.size - len(data),
                                                         shown=len(data)), raw=fr.size - len(data)))
        if len(data) < fr.size and st.tls:
            f.append(computed("ws.frame.records", Msg("value.count_records", n=records), raw=records))
        fed = op < 8 and not fr.assembler_failed
        app_data = bytes(fr.shown) if fed else bytes(fr.payload)
        app_size = fr.out if fed else size
        if compressed or (in_compressed and op == wf.Opcode.CONT):
            f.append(computed("ws.frame.inflated", Msg("value.inflated", n=size, m=app_size), raw=app_size))
        text_message = op == wf.Opcode.TEXT or (op == wf.Opcode.CONT and self._message_op.get(direction) == wf.Opcode.TEXT)
        shown = self._payload_value(op, app_data, app_size, text=text_message, first=op != wf.Opcode.CONT,
                                    last=head.fin)
        f.append(computed("ws.frame.unmasked_payload" if head.masked else "ws.frame.application_data",
                          shown, raw=None))
        facts: dict = {"opcode": op, "fin": head.fin, "compressed": compressed or None,
                       "in_compressed": (in_compressed and op == wf.Opcode.CONT) or None,
                       "masked": head.masked, "example_key": head.mask_key == wf.RFC_EXAMPLE_MASK or None}
        problems = fr.problems
        if op == wf.Opcode.CLOSE:
            close = self._close_effects(direction, fr, size)
            if close is not None:
                code, reason = close
                f.append(computed("ws.frame.close_code", close_code_msg(code) if code is not None
                                  else Msg("value.none"), raw=code))
                f.append(computed("ws.frame.close_reason", reason or Msg("value.none"), raw=reason))
                facts["close_code"] = code
            facts["first_close"] = len(self.closes) == 1
        if head.masked:
            f.append(self._xor_lane(head.mask_key, bytes(fr.payload), data, ps, size))
        if op < 8:
            self._message_effects(direction, op, compressed)
            if msg is not None:
                if msg.frames > 1:
                    f.append(computed("ws.frame.message", Msg("value.reassembled", frames=msg.frames,
                                                              payload=self._payload_value(
                                                                  msg.opcode, msg.data, msg.size,
                                                                  text=msg.opcode == wf.Opcode.TEXT)),
                                      raw=msg.frames))
                    facts["message_frames"] = msg.frames
                if msg.frames > 1 or msg.compressed:  # what the application gets, whole
                    f.append(computed("ws.frame.message_data", Msg("value.message_bytes", n=msg.size),
                                      raw=msg.data))
            facts["message_open"] = self.assemblers[direction].in_message or None
        seen_codes: set[str] = set()
        for p in problems:
            if p.code in seen_codes:
                continue
            seen_codes.add(p.code)
            f.append(computed("ws.frame.problem", Msg("value.frame_problem", rule=p.msg, rfc=p.rfc,
                                                      code=p.close_code), raw=p.code))
        status = "error" if problems else "ok"
        if problems:
            facts["problems"] = [p.code for p in problems]
        title = self._frame_title(op, opname)
        summary = Msg("summary.frame", dir=Msg(f"dir.{direction}"), op=opword, shown=shown,
                      mask=Msg("value.masked_with", key=head.mask_key.hex()) if head.masked
                      else Msg("value.not_masked"))
        return [self._make("ws.frame", direction, title, summary, wire=wire, data=data,
                                fields=f, status=status, time=time, facts=facts)]

    @staticmethod
    def _frame_title(op: int, opname: str) -> Msg:
        return Msg(f"title.frame_{opname}") if opname != "reserved" else Msg("title.frame_reserved", op=f"0x{op:x}")

    def _close_effects(self, direction: str, fr: _Frame, size: int) -> tuple[int | None, str] | None:
        """A Close frame ends its direction's frames: its code and reason (None when
        it is too long to be a control frame or its body is broken: a problem)."""
        close = None
        if size <= 125:
            try:
                close = wf.parse_close(bytes(fr.payload))
            except wf.ProtocolError as exc:
                if not any(p.code == exc.code for p in fr.problems):
                    fr.problems.append(exc)
        self.closes.add(direction)
        self.phase[direction] = "closed"
        self._stop_frames(direction)
        return close

    def _message_effects(self, direction: str, op: int, compressed: bool) -> None:
        """A data frame that opens a message sets what its continuations belong to."""
        if op != wf.Opcode.CONT:
            self._message_op[direction] = op
            self._message_compressed[direction] = compressed

    @staticmethod
    def _payload_value(op: int, payload: bytes, size: int | None = None, *, text: bool | None = None,
                       first: bool = True, last: bool = True) -> str | Msg:
        """A payload for people: quoted text, a close code and reason, or hex.  ``payload``
        may be only the first bytes of ``size``; a fragment of a text message may begin
        or end inside a character (its neighbours hold the rest)."""
        size = len(payload) if size is None else size
        whole = len(payload) == size
        if text is None:
            text = op == wf.Opcode.TEXT
        if text or op in (wf.Opcode.PING, wf.Opcode.PONG):
            data = payload
            if not first:  # skip the tail of a character begun in the previous fragment
                i = 0
                while i < min(3, len(data)) and 0x80 <= data[i] < 0xC0:
                    i += 1
                data = data[i:]
            try:
                decoded = codecs.getincrementaldecoder("utf-8")().decode(data, final=whole and last)
            except UnicodeDecodeError:
                return Msg("value.not_utf8", hex=elide(payload, PREVIEW))
            if not whole:
                return Msg("value.text_more", text=text_preview(decoded[:80]), n=size)
            return Msg("value.quoted", text=text_preview(decoded))
        if op == wf.Opcode.CLOSE:
            try:
                code, reason = wf.parse_close(payload)
            except wf.ProtocolError:
                return elide(payload, PREVIEW) if payload else Msg("value.empty")
            if code is None:
                return Msg("value.close_no_code")
            return Msg("value.close", code=close_code_msg(code),
                       reason=Msg("value.quoted", text=text_preview(reason)) if reason else None)
        return Msg("value.binary", n=size, hex=elide(payload[:PREVIEW // 2], PREVIEW // 2)) if size else Msg("value.empty")

    @staticmethod
    def _xor_lane(key: bytes, payload: bytes, data: bytes, ps: int, size: int) -> Field:
        n = min(XOR_LANE_MAX, size, len(payload), len(data) - ps)
        lane = computed("ws.frame.xor_lane", Msg("value.xor_lane", n=n, total=size), raw=n)
        for i in range(n):
            p = payload[i]
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
        return self._with_wire(self.maker.error(
            layer, rule, rfc, offset, OTHER[by], time, blame=by, wire=wire, data=data, status=status,
            action=action, facts={"close_code": close_code} if close_code else None))


close_code_msg = wf.close_code_word
