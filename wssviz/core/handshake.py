"""The WebSocket opening handshake (RFC 6455 §4), sans I/O.

Strict HTTP/1.1 head parsing (RFC 9112), building and checking the Upgrade request
and the 101 response.  The key and the Sec-WebSocket-Accept derivation (RFC 6455
§1.3, §4.2.2) live in ``wssviz.core.key`` and are re-exported here.

Every parser error is a :class:`HandshakeError` naming the rule, the RFC section, the
byte offset into the head and the HTTP status a server should answer with.  Every
parsed header keeps the byte spans it came from.

Limits (``wssviz.core.limits``): a head is at most ``max_head`` bytes, has at most
``max_headers`` header lines, and no line is longer than ``max_line`` bytes (CRLF not
counted).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Collection, Sequence

from wssviz.core.msg import Msg
from wssviz.core.msg import rule as rule_msg

# The key and its Accept, re-exported: part of the handshake's API.
from wssviz.core.key import GUID, AcceptDerivation, decode_key, derive_accept, new_key  # noqa: F401

from wssviz.core import limits as _limits

CRLF = b"\r\n"

# RFC 9110 §5.6.2: token = 1*tchar
_TCHAR = frozenset(b"!#$%&'*+-.^_`|~0123456789"
                   b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_TOKEN_RE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_TOKEN_STR_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_VERSION_RE = re.compile(rb"HTTP/([0-9])\.([0-9])\Z")
_BARE_LF_RE = re.compile(rb"(?<!\r)\n")
_BARE_CR_RE = re.compile(rb"\r(?!\n)")

REASONS = {
    101: "Switching Protocols",
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    414: "URI Too Long",
    426: "Upgrade Required",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}


class HandshakeError(Exception):
    """A malformed or unacceptable handshake.

    ``rule`` says in plain words what was broken, ``rfc`` where the rule is written,
    ``offset`` the byte offset into the head (or into the header value for the
    extension grammar; -1 if there is no place), ``status`` the HTTP status a server
    answers with (only meaningful on the server side).
    """

    def __init__(self, rule: str, rfc: str, offset: int = -1, status: int = 400, *, code: str,
                 **params: object) -> None:
        super().__init__(f"handshake: {rule} ({rfc}, offset {offset})")
        self.rule = rule
        self.rfc = rfc
        self.offset = offset
        self.status = status
        self.code = code
        self.params = params

    @property
    def msg(self) -> Msg:
        """The broken rule as the catalogs know it (what a learner reads)."""
        return rule_msg(self.code, **self.params)


# --- parsed heads ------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    """One header line.  ``start``/``end`` span the line including its CRLF,
    ``value_start``/``value_end`` the value without surrounding whitespace."""

    name: str
    value: str
    start: int
    end: int
    value_start: int
    value_end: int


class _HeaderAccess:
    headers: list[Header]

    def header(self, name: str) -> Header | None:
        """The first header called ``name`` (case-insensitive), or None."""
        lname = name.lower()
        for h in self.headers:
            if h.name.lower() == lname:
                return h
        return None

    def all(self, name: str) -> list[Header]:
        """Every header called ``name`` (case-insensitive), in order."""
        lname = name.lower()
        return [h for h in self.headers if h.name.lower() == lname]

    def get(self, name: str) -> str | None:
        """The value of ``name``; repeated headers are joined with ", " (RFC 9110 §5.3)."""
        found = self.all(name)
        if not found:
            return None
        return ", ".join(h.value for h in found)

    def tokens(self, name: str) -> list[str]:
        """The comma-separated list in ``name``: stripped, original case, empty
        elements dropped (RFC 9110 §5.6.1)."""
        value = self.get(name)
        if value is None:
            return []
        return [t.strip(" \t") for t in value.split(",") if t.strip(" \t")]


@dataclass
class Request(_HeaderAccess):
    method: str
    target: str
    version: str
    headers: list[Header]
    head: bytes
    line_end: int


@dataclass
class Response(_HeaderAccess):
    version: str
    status: int
    reason: str
    headers: list[Header]
    head: bytes
    line_end: int


# --- head framing and parsing ----------------------------------------------------


def head_length(buf: bytes) -> int | None:
    """Length of the complete head in ``buf`` (through the blank line), or None.

    Raises :class:`HandshakeError` as soon as the bytes cannot become a valid head:
    more than ``max_head`` bytes without an end (431), or a bare LF (RFC 9112 §2.2).
    """
    MAX_HEAD = _limits.LIMITS.max_head
    end = buf.find(b"\r\n\r\n", 0, MAX_HEAD + 1)
    limit = end + 4 if end >= 0 else min(len(buf), MAX_HEAD + 1)
    m = _BARE_LF_RE.search(buf, 0, limit)
    if m is not None:
        raise HandshakeError("line ends with a bare LF instead of CRLF", "RFC 9112 §2.2",
                             m.start(), 400, code="http.bare_lf")
    if end >= 0 and end + 4 <= MAX_HEAD:
        return end + 4
    if end >= 0 or len(buf) > MAX_HEAD:
        raise HandshakeError(f"head is longer than {MAX_HEAD} bytes", "RFC 6585 §5",
                             MAX_HEAD, 431, code="http.head_too_long", limit=MAX_HEAD)
    return None


def _split_head(head: bytes) -> list[tuple[int, int]]:
    """Spans ``(start, end_without_crlf)`` of every line before the blank line."""
    if not isinstance(head, (bytes, bytearray)):
        raise TypeError("head must be bytes")
    head = bytes(head)
    MAX_HEAD, MAX_LINE = _limits.LIMITS.max_head, _limits.LIMITS.max_line
    end = head.find(b"\r\n\r\n")
    if (end + 4 if end >= 0 else len(head)) > MAX_HEAD:
        raise HandshakeError(f"head is longer than {MAX_HEAD} bytes", "RFC 6585 §5",
                             MAX_HEAD, 431, code="http.head_too_long", limit=MAX_HEAD)
    if end < 0:
        m = _BARE_LF_RE.search(head)
        if m is not None:
            raise HandshakeError("line ends with a bare LF instead of CRLF", "RFC 9112 §2.2",
                                 m.start(), code="http.bare_lf")
        raise HandshakeError("head does not end with an empty line (CRLF CRLF)",
                             "RFC 9112 §2.1", len(head), code="http.no_blank_line")
    body = head[: end + 2]
    m = _BARE_LF_RE.search(body)
    if m is not None:
        raise HandshakeError("line ends with a bare LF instead of CRLF", "RFC 9112 §2.2",
                             m.start(), code="http.bare_lf")
    m = _BARE_CR_RE.search(body)
    if m is not None:
        raise HandshakeError("bare CR inside a line", "RFC 9112 §2.2", m.start(), code="http.bare_cr")
    spans = []
    pos = 0
    while pos < end + 2:
        nl = body.index(b"\r\n", pos)
        if nl - pos > MAX_LINE:
            spans.append((pos, -1))  # marked too long; the caller picks the status
        else:
            spans.append((pos, nl))
        pos = nl + 2
    return spans


def _check_line_length(start: int, stop: int, status: int, what: str) -> None:
    MAX_LINE = _limits.LIMITS.max_line
    if stop < 0:
        raise HandshakeError(f"{what} is longer than {MAX_LINE} bytes",
                             "RFC 9112 §3" if status == 414 else "RFC 6585 §5", start, status,
                             code="http.line_too_long", line=Msg(f"http.line.{what.replace(' ', '_')}"),
                             limit=MAX_LINE)


def _parse_headers(head: bytes, spans: list[tuple[int, int]]) -> list[Header]:
    MAX_HEADERS = _limits.LIMITS.max_headers
    if len(spans) > MAX_HEADERS:
        start = spans[MAX_HEADERS][0]
        raise HandshakeError(f"more than {MAX_HEADERS} header lines", "RFC 6585 §5", start, 431,
                             code="http.too_many_headers", limit=MAX_HEADERS)
    headers = []
    for start, stop in spans:
        _check_line_length(start, stop, 431, "header line")
        line = head[start:stop]
        if line[:1] in (b" ", b"\t"):
            raise HandshakeError("obsolete line folding (a header line starting with "
                                 "whitespace)", "RFC 9112 §5.2", start, code="http.line_folding")
        colon = line.find(b":")
        if colon < 0:
            raise HandshakeError("header line has no colon", "RFC 9112 §5", start, code="http.no_colon")
        name = line[:colon]
        if not name:
            raise HandshakeError("empty header name", "RFC 9110 §5.1", start, code="http.empty_name")
        for i, b in enumerate(name):
            if b not in _TCHAR:
                if name[i:].strip(b" \t") == b"":
                    raise HandshakeError("whitespace between header name and colon",
                                         "RFC 9112 §5.1", start + i, code="http.space_before_colon")
                raise HandshakeError(f"byte 0x{b:02x} is not allowed in a header name",
                                     "RFC 9110 §5.1", start + i, code="http.bad_name_byte",
                                     byte=f"0x{b:02x}")
        vs = colon + 1
        ve = len(line)
        while vs < ve and line[vs] in (0x20, 0x09):
            vs += 1
        while ve > vs and line[ve - 1] in (0x20, 0x09):
            ve -= 1
        value = line[vs:ve]
        for i, b in enumerate(value):
            # field-vchar = VCHAR / obs-text, with SP / HTAB inside (RFC 9110 §5.5)
            if b < 0x20 and b != 0x09 or b == 0x7F:
                raise HandshakeError(f"control byte 0x{b:02x} in a header value",
                                     "RFC 9110 §5.5", start + vs + i, code="http.control_in_value",
                                     byte=f"0x{b:02x}")
        headers.append(Header(name.decode("ascii"), value.decode("latin-1"),
                              start, stop + 2, start + vs, start + ve))
    return headers


def _check_ascii_line(head: bytes, start: int, stop: int, what: str) -> None:
    for i in range(start, stop):
        b = head[i]
        if b < 0x20 or b > 0x7E:
            raise HandshakeError(f"byte 0x{b:02x} is not allowed in the {what}",
                                 "RFC 9112 §3" if what == "request line" else "RFC 9112 §4", i,
                                 code="http.bad_line_byte", byte=f"0x{b:02x}",
                                 line=Msg(f"http.line.{what.replace(' ', '_')}"))


def parse_request(head: bytes) -> Request:
    """Parse a complete request head (request line, headers, blank line)."""
    spans = _split_head(head)
    head = bytes(head[: head.find(b"\r\n\r\n") + 4])  # bytes after the head are not ours
    start, stop = spans[0]
    _check_line_length(start, stop, 414, "request line")
    if stop == start:
        raise HandshakeError("empty request line", "RFC 9112 §3", 0, code="http.empty_request_line")
    _check_ascii_line(head, start, stop, "request line")
    line = head[start:stop]
    parts = line.split(b" ")
    if len(parts) != 3 or not all(parts):
        raise HandshakeError("request line is not: method SP request-target SP HTTP-version",
                             "RFC 9112 §3", 0, code="http.request_line_shape")
    method, target, version = parts
    if not _TOKEN_RE.match(method):
        raise HandshakeError("method is not a token", "RFC 9112 §3.1", 0, code="http.method_token")
    vstart = len(method) + len(target) + 2
    if not _VERSION_RE.match(version):
        raise HandshakeError("HTTP-version is not HTTP/x.y", "RFC 9112 §2.3", vstart,
                             code="http.version_shape")
    headers = _parse_headers(head, spans[1:])
    return Request(method.decode("ascii"), target.decode("ascii"), version.decode("ascii"),
                   headers, head, stop + 2)


def parse_response(head: bytes) -> Response:
    """Parse a complete response head (status line, headers, blank line)."""
    spans = _split_head(head)
    head = bytes(head[: head.find(b"\r\n\r\n") + 4])  # bytes after the head are not ours
    start, stop = spans[0]
    _check_line_length(start, stop, 400, "status line")
    if stop == start:
        raise HandshakeError("empty status line", "RFC 9112 §4", 0, code="http.empty_status_line")
    line = head[start:stop]
    sp = line.find(b" ")
    version = line[:sp] if sp >= 0 else line
    if not _VERSION_RE.match(version):
        raise HandshakeError("HTTP-version is not HTTP/x.y", "RFC 9112 §2.3", 0,
                             code="http.version_shape")
    code = line[sp + 1: sp + 4]
    if len(code) != 3 or not code.isdigit():
        raise HandshakeError("status code is not three digits", "RFC 9112 §4", sp + 1,
                             code="http.status_digits")
    rest = line[sp + 4:]
    if rest and rest[:1] != b" ":
        raise HandshakeError("status code is not followed by SP", "RFC 9112 §4", sp + 4,
                             code="http.status_space")
    reason = rest[1:]
    for i, b in enumerate(reason):
        if b < 0x20 and b != 0x09 or b == 0x7F:
            raise HandshakeError(f"control byte 0x{b:02x} in the reason phrase",
                                 "RFC 9112 §4", sp + 5 + i, code="http.control_in_reason",
                                 byte=f"0x{b:02x}")
    headers = _parse_headers(head, spans[1:])
    return Response(version.decode("ascii"), int(code), reason.decode("latin-1"), headers,
                    head, stop + 2)


# --- building --------------------------------------------------------------------------


def _line(name: str, value: str) -> str:
    for part in (name, value):
        if "\r" in part or "\n" in part:
            raise ValueError(f"CR or LF inside header {name!r}")
    return f"{name}: {value}\r\n"


def build_request(host: str, path: str, key: str, *, origin: str | None = None,
                  protocols: Sequence[str] = (), extensions: str | None = None,
                  version: str = "13", extra: Sequence[tuple[str, str]] = ()) -> bytes:
    """The client's opening handshake, headers in the order of RFC 6455 §1.2."""
    for part in (path,):
        if any(c in part for c in " \r\n"):
            raise ValueError("path must not contain SP, CR or LF")
    out = [f"GET {path} HTTP/1.1\r\n", _line("Host", host), _line("Upgrade", "websocket"),
           _line("Connection", "Upgrade"), _line("Sec-WebSocket-Key", key)]
    if origin is not None:
        out.append(_line("Origin", origin))
    if protocols:
        out.append(_line("Sec-WebSocket-Protocol", ", ".join(protocols)))
    out.append(_line("Sec-WebSocket-Version", version))
    if extensions:
        out.append(_line("Sec-WebSocket-Extensions", extensions))
    out.extend(_line(n, v) for n, v in extra)
    out.append("\r\n")
    return "".join(out).encode("utf-8")


# --- checking -----------------------------------------------------------------------------


@dataclass
class Problem:
    """One broken rule.  ``offset`` points into the head bytes (-1 if nowhere).

    ``detail`` reads on its own as one line for people (it also goes into a
    refusal's body): ``Upgrade header missing``, ``Sec-WebSocket-Version: '8'``.
    ``missing`` names the required header whose absence broke the rule, if that
    is what happened.
    """

    rule: str
    rfc: str
    offset: int
    detail: str
    status: int = 400
    missing: str | None = None
    code: str = ""  # the rule as the catalogs know it: rule.<code>
    params: dict[str, Any] | None = None

    @property
    def msg(self) -> Msg:
        """The broken rule as a learner reads it (its values included)."""
        return rule_msg(self.code, **(self.params or {}))


@dataclass
class RequestCheck:
    ok: bool
    status: int
    problems: list[Problem]
    key: str | None
    protocol: str | None
    extensions: str | None
    accept: AcceptDerivation | None


def _value_offset(msg: Request | Response, name: str) -> int:
    h = msg.header(name)
    return h.value_start if h is not None else -1


def _shown(msg: Request | Response, name: str) -> str:
    """A header as a problem's detail: its value, or that it is missing."""
    value = msg.get(name)
    return f"{name} header missing" if value is None else f"{name}: {value!r}"


def _missing(msg: Request | Response, name: str) -> str | None:
    return name if msg.header(name) is None else None


def _token_rule(msg: Request | Response, name: str, token: str) -> tuple[str]:
    """The rule a header without its token breaks: required if absent, else the token."""
    if msg.get(name) is None:
        return (f"a {name} header is required",)
    return (f"the {name} header must contain the token {token}",)


def _token_code(msg: Request | Response, name: str, code: str) -> dict[str, Any]:
    """The problem's code and values: ``ws.header_required`` when the header is absent."""
    value = msg.get(name)
    if value is None:
        return {"code": "ws.header_required", "header": name}
    return {"code": code, "value": value}


def _protocol_tokens_ok(tokens: list[str]) -> bool:
    return all(_TOKEN_STR_RE.match(t) for t in tokens) and len(set(tokens)) == len(tokens)


def check_request(req: Request, *, allowed_origins: Collection[str | None] | None = None,
                  supported_protocols: Sequence[str] = (),
                  supported_extensions: Callable[[str], str | None] | None = None
                  ) -> RequestCheck:
    """Check a parsed request against the server's rules of RFC 6455 §4.2.1.

    ``allowed_origins``: when given, Origin must be one of them (compared
    case-insensitively), else 403; put ``None`` in it to accept requests that carry
    no Origin (non-browser clients).  The chosen subprotocol is the first one the
    client offered that the server supports.  ``supported_extensions`` receives the
    raw Sec-WebSocket-Extensions value and returns the response header value or None.
    """
    rfc = "RFC 6455 §4.2.1"
    problems: list[Problem] = []

    def bad(rule: str, offset: int, detail: str, status: int = 400, where: str = rfc,
            missing: str | None = None, *, code: str, **params: Any) -> None:
        problems.append(Problem(rule, where, offset, detail, status, missing, code, params))

    if req.method != "GET":
        bad("the method must be GET", 0, f"method {req.method!r}", code="ws.method_get",
            method=req.method)
    target_at = len(req.method) + 1
    t = req.target
    if not (t.startswith("/") or re.match(r"(?i)(https?|wss?)://", t)):
        bad("the request target must be a path or an absolute http(s) URI", target_at,
            f"target {t!r}", code="ws.request_target", target=t)
    m = re.match(r"HTTP/(\d)\.(\d)\Z", req.version)
    if m is None or (int(m[1]), int(m[2])) < (1, 1):
        bad("the HTTP version must be 1.1 or higher", target_at + len(t) + 1,
            f"version {req.version!r}", code="ws.http_version", version=req.version)

    hosts = req.all("Host")
    if not hosts:
        bad("a Host header is required", -1, "Host header missing", missing="Host",
            code="ws.header_required", header="Host")
    elif len(hosts) > 1:
        bad("exactly one Host header is allowed", hosts[1].start,
            f"{len(hosts)} Host headers", where="RFC 9112 §3.2", code="ws.header_repeated",
            header="Host", count=len(hosts))

    if "websocket" not in [x.lower() for x in req.tokens("Upgrade")]:
        bad(*_token_rule(req, "Upgrade", "websocket"),
            _value_offset(req, "Upgrade"), _shown(req, "Upgrade"), missing=_missing(req, "Upgrade"),
            **_token_code(req, "Upgrade", "ws.upgrade_token"))
    if "upgrade" not in [x.lower() for x in req.tokens("Connection")]:
        bad(*_token_rule(req, "Connection", "Upgrade"),
            _value_offset(req, "Connection"), _shown(req, "Connection"),
            missing=_missing(req, "Connection"), **_token_code(req, "Connection", "ws.connection_token"))

    keys = req.all("Sec-WebSocket-Key")
    key = req.get("Sec-WebSocket-Key")
    accept = None
    if not keys:
        bad("a Sec-WebSocket-Key header is required", -1, "Sec-WebSocket-Key header missing",
            missing="Sec-WebSocket-Key", code="ws.header_required", header="Sec-WebSocket-Key")
    elif len(keys) > 1:
        bad("Sec-WebSocket-Key must appear once", keys[1].start,
            f"{len(keys)} Sec-WebSocket-Key headers",
            where="RFC 6455 §11.3.1", code="ws.header_repeated", header="Sec-WebSocket-Key",
            count=len(keys))
    else:
        accept = derive_accept(key)
        if accept.key_bytes is None:
            bad("Sec-WebSocket-Key must be the base64 of 16 bytes", keys[0].value_start,
                _shown(req, "Sec-WebSocket-Key"), code="ws.key_shape", value=key)

    version = req.get("Sec-WebSocket-Version")
    if version is None:
        bad("a Sec-WebSocket-Version header is required", -1,
            "Sec-WebSocket-Version header missing", 426, "RFC 6455 §4.4",
            missing="Sec-WebSocket-Version", code="ws.header_required", header="Sec-WebSocket-Version")
    elif version != "13":
        bad("Sec-WebSocket-Version must be 13", _value_offset(req, "Sec-WebSocket-Version"),
            _shown(req, "Sec-WebSocket-Version"), 426, "RFC 6455 §4.4", code="ws.version_13",
            value=version)

    if allowed_origins is not None:
        origin = req.get("Origin")
        allowed = {o.lower() if o is not None else None for o in allowed_origins}
        if origin is None:
            if None not in allowed:
                bad("an Origin header is required by this server", -1, "Origin header missing",
                    403, "RFC 6455 §4.2.2", missing="Origin", code="ws.origin_required")
        elif origin.lower() not in allowed:
            bad("the Origin is not allowed by this server", _value_offset(req, "Origin"),
                f"Origin: {origin!r}", 403, "RFC 6455 §4.2.2", code="ws.origin_refused", origin=origin)

    offered = req.tokens("Sec-WebSocket-Protocol")
    protocol = None
    if offered and not _protocol_tokens_ok(offered):
        bad("Sec-WebSocket-Protocol must be unique tokens", _value_offset(
            req, "Sec-WebSocket-Protocol"), _shown(req, "Sec-WebSocket-Protocol"),
            where="RFC 6455 §4.1", code="ws.protocol_tokens", value=req.get("Sec-WebSocket-Protocol"))
    else:
        for p in offered:
            if p in supported_protocols:
                protocol = p
                break

    extensions = None
    ext_value = req.get("Sec-WebSocket-Extensions")
    if ext_value is not None and supported_extensions is not None:
        try:
            extensions = supported_extensions(ext_value)
        except HandshakeError as e:
            off = _value_offset(req, "Sec-WebSocket-Extensions")
            bad(e.rule, off + max(e.offset, 0) if off >= 0 else -1, str(e), where=e.rfc, code=e.code,
                **e.params)

    status = 101
    if problems:
        statuses = {p.status for p in problems}
        status = 400 if 400 in statuses else 426 if 426 in statuses else min(statuses)
    return RequestCheck(not problems, status, problems, key, protocol, extensions, accept)


def build_response(check: RequestCheck, *, accept: str | None = None,
                   extra: Sequence[tuple[str, str]] = ()) -> bytes:
    """The 101 answer (RFC 6455 §4.2.2).  ``accept`` overrides the derived value
    (a fault hook); this does not refuse a check that failed."""
    if accept is None:
        if check.accept is None:
            raise ValueError("no Sec-WebSocket-Key to derive an Accept from")
        accept = check.accept.accept
    out = ["HTTP/1.1 101 Switching Protocols\r\n", _line("Upgrade", "websocket"),
           _line("Connection", "Upgrade"), _line("Sec-WebSocket-Accept", accept)]
    if check.protocol:
        out.append(_line("Sec-WebSocket-Protocol", check.protocol))
    if check.extensions:
        out.append(_line("Sec-WebSocket-Extensions", check.extensions))
    out.extend(_line(n, v) for n, v in extra)
    out.append("\r\n")
    return "".join(out).encode("utf-8")


def build_error_response(status: int, detail: str = "",
                         extra: Sequence[tuple[str, str]] = ()) -> bytes:
    """A complete refusal with a short text body and ``Connection: close``.
    426 names the version this server speaks (RFC 6455 §4.4, RFC 9110 §15.5.22)."""
    reason = REASONS.get(status, "Error")
    body = f"{status} {reason}\n" + (f"{detail}\n" if detail else "")
    data = body.encode("utf-8")
    out = [f"HTTP/1.1 {status} {reason}\r\n"]
    if status == 426:
        out += [_line("Upgrade", "websocket"), _line("Sec-WebSocket-Version", "13")]
    out += [_line("Content-Type", "text/plain; charset=utf-8"),
            _line("Content-Length", str(len(data))), _line("Connection", "close")]
    out.extend(_line(n, v) for n, v in extra)
    out.append("\r\n")
    return "".join(out).encode("utf-8") + data


def check_response(resp: Response, *, key: str, offered_protocols: Sequence[str] = (),
                   offered_extensions: str | None = None) -> list[Problem]:
    """Check the server's answer against the client's rules of RFC 6455 §4.1."""
    rfc = "RFC 6455 §4.1"
    problems: list[Problem] = []

    def bad(rule: str, offset: int, detail: str, missing: str | None = None, *, code: str,
            **params: Any) -> None:
        problems.append(Problem(rule, rfc, offset, detail, 0, missing, code, params))

    if resp.status != 101:
        bad("the status must be 101 Switching Protocols", len(resp.version) + 1,
            f"status {resp.status} {resp.reason}", code="ws.status_101", status=resp.status)
    if resp.version != "HTTP/1.1":
        bad("the response must be HTTP/1.1", 0, f"version {resp.version!r}",
            code="ws.response_version", version=resp.version)
    upgrade = resp.get("Upgrade")
    if upgrade is None or upgrade.strip().lower() != "websocket":
        bad("a Upgrade header is required" if upgrade is None else "the Upgrade header must be websocket",
            _value_offset(resp, "Upgrade"), _shown(resp, "Upgrade"), _missing(resp, "Upgrade"),
            **_token_code(resp, "Upgrade", "ws.upgrade_token"))
    if "upgrade" not in [x.lower() for x in resp.tokens("Connection")]:
        bad(*_token_rule(resp, "Connection", "Upgrade"),
            _value_offset(resp, "Connection"), _shown(resp, "Connection"),
            _missing(resp, "Connection"), **_token_code(resp, "Connection", "ws.connection_token"))
    got = resp.get("Sec-WebSocket-Accept")
    want = derive_accept(key).accept
    if got is None:
        bad("a Sec-WebSocket-Accept header is required", -1,
            f"Sec-WebSocket-Accept header missing, expected {want!r}", "Sec-WebSocket-Accept",
            code="ws.header_required", header="Sec-WebSocket-Accept")
    elif got != want:
        bad("Sec-WebSocket-Accept must be base64(SHA-1(key + GUID))",
            _value_offset(resp, "Sec-WebSocket-Accept"),
            f"Sec-WebSocket-Accept: {got!r}, expected {want!r}", code="ws.accept_mismatch",
            got=got, want=want)
    proto = resp.get("Sec-WebSocket-Protocol")
    if proto is not None and proto not in offered_protocols:
        bad("Sec-WebSocket-Protocol must be one the client offered",
            _value_offset(resp, "Sec-WebSocket-Protocol"),
            f"Sec-WebSocket-Protocol: {proto!r}, offered {list(offered_protocols)!r}",
            code="ws.protocol_not_offered", protocol=proto, offered=list(offered_protocols))
    ext = resp.get("Sec-WebSocket-Extensions")
    if ext is not None:
        off = _value_offset(resp, "Sec-WebSocket-Extensions")
        try:
            names = [n for n, _ in parse_extensions(ext)]
            offered = {n.lower() for n, _ in parse_extensions(offered_extensions or "")} \
                if offered_extensions else set()
        except HandshakeError as e:
            bad(e.rule, off + max(e.offset, 0), str(e), code=e.code, **e.params)
        else:
            for n in names:
                if n.lower() not in offered:
                    bad("Sec-WebSocket-Extensions names an extension the client did not offer",
                        off, f"extension {n!r} was not offered", code="ws.extension_not_offered",
                        extension=n)
    return problems


# --- the extension header grammar (RFC 6455 §9.1) ----------------------------------------


def parse_extensions_raw(value: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Parse a Sec-WebSocket-Extensions value keeping repeated parameters.

    Raises :class:`HandshakeError` with ``offset`` into ``value``.
    """
    rfc = "RFC 6455 §9.1"
    n = len(value)
    pos = 0
    result: list[tuple[str, list[tuple[str, str | None]]]] = []

    def ws() -> None:
        nonlocal pos
        while pos < n and value[pos] in " \t":
            pos += 1

    def token(what: str) -> str:
        nonlocal pos
        start = pos
        while pos < n and value[pos].isascii() and ord(value[pos]) in _TCHAR:
            pos += 1
        if pos == start:
            raise HandshakeError(f"expected {what} (a token)", rfc, pos, code="http.ext_token",
                                 what=Msg(f"http.ext.{what.split(' ', 1)[1].replace(' ', '_')}"))
        return value[start:pos]

    def quoted() -> str:
        nonlocal pos
        start = pos
        pos += 1
        out = []
        while pos < n and value[pos] != '"':
            if value[pos] == "\\":
                pos += 1
                if pos >= n:
                    break
            out.append(value[pos])
            pos += 1
        if pos >= n:
            raise HandshakeError("unterminated quoted-string", rfc, start, code="http.ext_unterminated")
        pos += 1
        text = "".join(out)
        if not _TOKEN_STR_RE.match(text):
            raise HandshakeError("a quoted parameter value must be a token once unquoted",
                                 rfc, start, code="http.ext_quoted_token")
        return text

    while True:
        ws()
        if pos < n and value[pos] == ",":  # empty list element (RFC 9110 §5.6.1)
            pos += 1
            continue
        if pos >= n:
            break
        name = token("an extension name")
        params: list[tuple[str, str | None]] = []
        ws()
        while pos < n and value[pos] == ";":
            pos += 1
            ws()
            pname = token("a parameter name")
            ws()
            pval: str | None = None
            if pos < n and value[pos] == "=":
                pos += 1
                ws()
                pval = quoted() if pos < n and value[pos] == '"' else token("a parameter value")
                ws()
            params.append((pname, pval))
        result.append((name, params))
        if pos < n:
            if value[pos] != ",":
                raise HandshakeError(f"unexpected {value[pos]!r}", rfc, pos, code="http.ext_unexpected",
                                     char=value[pos])
            pos += 1
    if not result:
        raise HandshakeError("empty extension list", rfc, 0, code="http.ext_empty")
    return result


def parse_extensions(value: str) -> list[tuple[str, dict[str, str | None]]]:
    """Parse a Sec-WebSocket-Extensions value: ``[(name, {param: value|None})]``."""
    return [(name, dict(params)) for name, params in parse_extensions_raw(value)]


def format_extension(name: str, params: dict[str, str | None] |
                     Sequence[tuple[str, str | None]] = ()) -> str:
    """``name; p1; p2=v`` (the inverse of one element of parse_extensions)."""
    items = params.items() if isinstance(params, dict) else params
    parts = [name]
    for k, v in items:
        parts.append(k if v is None else f"{k}={v}")
    return "; ".join(parts)
