"""The opening handshake core: RFC 6455 §1.2/§1.3/§4 vectors, strict HTTP/1.1 parsing,
every check_request / check_response rule, and interop with websockets' sans-I/O
protocol objects."""

from __future__ import annotations

import base64
import hashlib
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wssviz.core import handshake as hs
from wssviz.core.deflate import negotiate
from wssviz.core.handshake import (GUID, HandshakeError,
                                   build_error_response, build_request, build_response,
                                   check_request, check_response, derive_accept, head_length,
                                   new_key, parse_extensions, parse_request, parse_response)
from wssviz.core.limits import LIMITS
from helpers_capture import UPGRADE_REQUEST

MAX_HEAD, MAX_HEADERS, MAX_LINE = LIMITS.max_head, LIMITS.max_headers, LIMITS.max_line

RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
RFC_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

# RFC 6455 §1.2, the client's and the server's handshake, with CRLF line ends.
TEXTBOOK_REQUEST = UPGRADE_REQUEST  # RFC 6455 §1.2 (kept once, in helpers_capture)
TEXTBOOK_RESPONSE = (
    b"HTTP/1.1 101 Switching Protocols\r\n"
    b"Upgrade: websocket\r\n"
    b"Connection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
    b"Sec-WebSocket-Protocol: chat\r\n"
    b"\r\n")


def request(*lines: str, first: str = "GET /chat HTTP/1.1") -> bytes:
    return ("\r\n".join((first,) + lines) + "\r\n\r\n").encode("latin-1")


GOOD = ("Host: server.example.com", "Upgrade: websocket", "Connection: Upgrade",
        f"Sec-WebSocket-Key: {RFC_KEY}", "Sec-WebSocket-Version: 13")


def without(name: str, *extra: str) -> tuple[str, ...]:
    return tuple(l for l in GOOD if not l.lower().startswith(name.lower() + ":")) + extra


def replace(name: str, value: str) -> tuple[str, ...]:
    return without(name, f"{name}: {value}")


# --- the Accept derivation ------------------------------------------------------------


def test_rfc_6455_1_3_accept_vector_with_every_intermediate():
    d = derive_accept(RFC_KEY)
    assert d.accept == RFC_ACCEPT
    assert d.key_bytes == b"the sample nonce"
    assert d.joined == b"dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
    # RFC 6455 §1.3 spells out the SHA-1 digest byte by byte.
    assert d.digest == bytes([0xb3, 0x7a, 0x4f, 0x2c, 0xc0, 0x62, 0x4f, 0x16, 0x90, 0xf6,
                              0x46, 0x06, 0xcf, 0x38, 0x59, 0x45, 0xb2, 0xbe, 0xc4, 0xea])


@pytest.mark.parametrize("key", [
    "dGhlIHNhbXBsZSBub25jZQ",        # padding missing
    "dGhlIHNhbXBsZSBub25jZR==",      # non-canonical trailing bits
    "dGhlIHNhbXBsZSBub25j",          # 15 bytes... not even that: 12
    "dGhlIHNhbXBsZSBub25jZSE=",      # 17 bytes
    "dGhlIHNhbXBsZSBub25jZQ==\x00",  # garbage
    "ünïcode-key-ünïcode-key=",
    "",
])
def test_invalid_keys_have_no_key_bytes_but_still_derive(key):
    d = derive_accept(key)
    assert d.key_bytes is None
    assert d.digest == hashlib.sha1(d.joined).digest()
    assert d.joined.endswith(GUID.encode())


def test_new_key_uses_the_given_randomness():
    assert new_key(lambda n: b"the sample nonce"[:n]) == RFC_KEY
    keys = {new_key() for _ in range(20)}
    assert len(keys) == 20
    for k in keys:
        assert len(base64.b64decode(k)) == 16 and derive_accept(k).key_bytes is not None
    with pytest.raises(ValueError):
        new_key(lambda n: b"short")


@given(st.binary(min_size=16, max_size=16))
def test_any_16_bytes_make_a_valid_key(raw):
    key = new_key(lambda n: raw)
    d = derive_accept(key)
    assert d.key_bytes == raw
    assert base64.b64decode(d.accept) == hashlib.sha1(key.encode() + GUID.encode()).digest()


# --- building: the textbook bytes ---------------------------------------------------------


def test_build_request_reproduces_rfc_6455_1_2():
    got = build_request("server.example.com", "/chat", RFC_KEY, origin="http://example.com",
                        protocols=["chat", "superchat"])
    assert got == TEXTBOOK_REQUEST


def test_build_request_optional_parts_and_extras():
    got = build_request("h:8080", "/", RFC_KEY, extensions="permessage-deflate",
                        extra=[("User-Agent", "wssviz")], version="8")
    req = parse_request(got)
    assert [h.name for h in req.headers] == ["Host", "Upgrade", "Connection",
                                             "Sec-WebSocket-Key", "Sec-WebSocket-Version",
                                             "Sec-WebSocket-Extensions", "User-Agent"]
    assert req.get("sec-websocket-version") == "8"
    with pytest.raises(ValueError):
        build_request("h", "/", RFC_KEY, extra=[("X", "a\r\nInjected: 1")])
    with pytest.raises(ValueError):
        build_request("h", "/a b", RFC_KEY)


def test_build_response_reproduces_rfc_6455_1_2():
    check = check_request(parse_request(TEXTBOOK_REQUEST), supported_protocols=["chat"])
    assert check.ok and check.status == 101 and check.protocol == "chat"
    assert build_response(check) == TEXTBOOK_RESPONSE
    forged = build_response(check, accept="AAAA", extra=[("X-Fault", "wrong accept")])
    resp = parse_response(forged)
    assert resp.get("Sec-WebSocket-Accept") == "AAAA" and resp.get("x-fault") == "wrong accept"
    probs = check_response(resp, key=RFC_KEY, offered_protocols=["chat"])
    assert [p.rule for p in probs] == ["Sec-WebSocket-Accept must be base64(SHA-1(key + GUID))"]
    assert probs[0].offset == resp.header("Sec-WebSocket-Accept").value_start


@pytest.mark.parametrize("status,reason", [(400, "Bad Request"), (403, "Forbidden"),
                                           (426, "Upgrade Required"),
                                           (431, "Request Header Fields Too Large")])
def test_error_responses_parse_and_carry_their_body(status, reason):
    raw = build_error_response(status, "because")
    n = head_length(raw)
    resp = parse_response(raw[:n])
    assert (resp.status, resp.reason) == (status, reason)
    body = raw[n:]
    assert int(resp.get("Content-Length")) == len(body)
    assert b"because" in body
    assert resp.tokens("Connection") == ["close"]
    assert (resp.get("Sec-WebSocket-Version") == "13") == (status == 426)


# --- head framing ---------------------------------------------------------------------------


def test_head_length_waits_for_the_blank_line():
    for i in range(len(TEXTBOOK_REQUEST)):
        assert head_length(TEXTBOOK_REQUEST[:i]) is None
    assert head_length(TEXTBOOK_REQUEST) == len(TEXTBOOK_REQUEST)
    assert head_length(TEXTBOOK_REQUEST + b"\x81\x05Hello") == len(TEXTBOOK_REQUEST)


def test_head_length_limit_is_431():
    with pytest.raises(HandshakeError) as e:
        head_length(b"GET / HTTP/1.1\r\nX: " + b"a" * MAX_HEAD)
    assert e.value.status == 431 and e.value.offset == MAX_HEAD
    # exactly at the limit is fine, one byte more is not
    filler = b"GET / HTTP/1.1\r\nX: "
    ok = filler + b"a" * (MAX_HEAD - len(filler) - 4) + b"\r\n\r\n"
    assert head_length(ok) == MAX_HEAD
    with pytest.raises(HandshakeError):
        head_length(ok[:-4] + b"a\r\n\r\n")


def test_head_length_fails_fast_on_bare_lf():
    with pytest.raises(HandshakeError) as e:
        head_length(b"GET / HTTP/1.1\nHost: x\n")
    assert e.value.offset == 14 and e.value.rfc == "RFC 9112 §2.2"


# --- strict parsing ----------------------------------------------------------------------------


def test_parse_request_spans():
    req = parse_request(TEXTBOOK_REQUEST)
    assert (req.method, req.target, req.version) == ("GET", "/chat", "HTTP/1.1")
    assert req.line_end == len(b"GET /chat HTTP/1.1\r\n")
    for h in req.headers:
        assert req.head[h.start:h.end] == f"{h.name}: {h.value}\r\n".encode()
        assert req.head[h.value_start:h.value_end] == h.value.encode()
    assert req.headers[0].start == req.line_end
    assert req.headers[-1].end == len(TEXTBOOK_REQUEST) - 2


def test_header_helpers_are_case_insensitive_and_join_repeats():
    raw = request("host: a", "Connection: keep-alive,  Upgrade ", "CONNECTION: x,,y",
                  "X-Empty:", "X-Tabs:\t v \t")
    req = parse_request(raw)
    assert req.get("HOST") == "a"
    assert req.get("connection") == "keep-alive,  Upgrade, x,,y"
    assert req.tokens("Connection") == ["keep-alive", "Upgrade", "x", "y"]
    assert req.header("x-empty").value == "" and req.get("x-tabs") == "v"
    h = req.header("x-tabs")
    assert raw[h.value_start:h.value_end] == b"v"
    assert req.get("missing") is None and req.tokens("missing") == [] \
        and req.header("missing") is None


def offset_of(raw: bytes, needle: bytes) -> int:
    i = raw.find(needle)
    assert i >= 0
    return i


@pytest.mark.parametrize("raw,needle,rfc,status", [
    (request("Host: a", " folded"), b" folded", "RFC 9112 §5.2", 400),
    (request("Host: a", "\tfolded"), b"\tfolded", "RFC 9112 §5.2", 400),
    (request("Host : a"), b" : a", "RFC 9112 §5.1", 400),
    (request("Ho(st: a"), b"(st", "RFC 9110 §5.1", 400),
    (request("H\xe9st: a"), b"\xe9st", "RFC 9110 §5.1", 400),
    (request("Host a"), b"Host a", "RFC 9112 §5", 400),
    (request(": a"), b": a", "RFC 9110 §5.1", 400),
    (request("Host: a\x00b"), b"\x00b", "RFC 9110 §5.5", 400),
    (request("Host: a\x7fb"), b"\x7fb", "RFC 9110 §5.5", 400),
    (request("Host: a", first="GET  /chat HTTP/1.1"), b"GET", "RFC 9112 §3", 400),
    (request("Host: a", first="GET /chat HTTP/1.1 x"), b"GET", "RFC 9112 §3", 400),
    (request("Host: a", first="G(T /chat HTTP/1.1"), b"G(T", "RFC 9112 §3.1", 400),
    (request("Host: a", first="GET /chat HTTP/11"), b"HTTP/11", "RFC 9112 §2.3", 400),
    (request("Host: a", first="GET /ch\xe4t HTTP/1.1"), b"\xe4", "RFC 9112 §3", 400),
    (request("Host: a", first=""), b"\r\n", "RFC 9112 §3", 400),
    (b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", b"\rb", "RFC 9112 §2.2", 400),
    (b"GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", b"\nX", "RFC 9112 §2.2", 400),
    (b"GET / HTTP/1.1\r\nHost: a\r\n", b"", "RFC 9112 §2.1", 400),
])
def test_malformed_requests_name_rule_and_offset(raw, needle, rfc, status):
    with pytest.raises(HandshakeError) as e:
        parse_request(raw)
    assert e.value.rfc == rfc and e.value.status == status
    assert e.value.offset == (offset_of(raw, needle) if needle else len(raw))
    assert rfc in str(e.value) and "handshake" in str(e.value)


def test_a_tls_client_hello_is_not_a_request():
    hello = bytes.fromhex("16030100f8010000f40303") + bytes(40) + b"\r\n\r\n"
    with pytest.raises(HandshakeError) as e:
        parse_request(hello)
    assert e.value.offset == 0 and e.value.status == 400


def test_limits_on_lines_and_header_count():
    long_target = request("Host: a", first="GET /" + "a" * MAX_LINE + " HTTP/1.1")
    with pytest.raises(HandshakeError) as e:
        parse_request(long_target)
    assert e.value.status == 414 and e.value.offset == 0
    at_limit = "X: " + "v" * (MAX_LINE - 3)
    assert parse_request(request(at_limit)).headers[0].value == "v" * (MAX_LINE - 3)
    raw = request("Host: a", at_limit + "v")
    with pytest.raises(HandshakeError) as e:
        parse_request(raw)
    assert e.value.status == 431 and e.value.offset == offset_of(raw, b"X: ")
    many = [f"X-{i}: v" for i in range(MAX_HEADERS)]
    assert len(parse_request(request(*many)).headers) == MAX_HEADERS
    raw = request(*many, "X-last: v")
    with pytest.raises(HandshakeError) as e:
        parse_request(raw)
    assert e.value.status == 431 and e.value.offset == offset_of(raw, b"X-last")


@pytest.mark.parametrize("raw,needle", [
    (b"HTTP/1.1 101\r\n\r\n", None),
    (b"HTTP/1.1 10x Switching\r\n\r\n", b"10x"),
    (b"HTTP/1.1 1010 Switching\r\n\r\n", b"0 Switching"),
    (b"HTTX/1.1 101 Switching\r\n\r\n", b"HTTX"),
    (b"HTTP/1.1 101 Swi\x00tching\r\n\r\n", b"\x00"),
    (b"HTTP/1.1 101 OK\r\nUpgrade : websocket\r\n\r\n", b" : "),
])
def test_status_line_parsing(raw, needle):
    if needle is None:
        resp = parse_response(raw)
        assert (resp.status, resp.reason) == (101, "")
        return
    with pytest.raises(HandshakeError) as e:
        parse_response(raw)
    assert e.value.offset == offset_of(raw, needle)


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_garbage_never_crashes_the_parsers(data):
    for parse in (parse_request, parse_response):
        try:
            parse(data + b"\r\n\r\n")
        except HandshakeError as e:
            assert 0 <= e.offset <= len(data) + 4
    try:
        head_length(data)
    except HandshakeError:
        pass


header_names = st.text(st.sampled_from("abcXYZ-_!#09"), min_size=1, max_size=12)
header_values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e),
                        max_size=40).map(str.strip)


@given(st.lists(st.tuples(header_names, header_values), max_size=20))
def test_headers_round_trip(extra):
    raw = build_request("example.com", "/x", RFC_KEY, extra=extra)
    req = parse_request(raw)
    got = [(h.name, h.value) for h in req.headers[5:]]
    assert got == list(extra)
    for h in req.headers:
        assert raw[h.value_start:h.value_end].decode() == h.value


# --- check_request: every rule of RFC 6455 §4.2.1 -------------------------------------------


def checked(raw: bytes, **kw) -> hs.RequestCheck:
    return check_request(parse_request(raw), **kw)


def test_a_good_request_passes():
    c = checked(request(*GOOD))
    assert c.ok and c.status == 101 and c.problems == [] and c.key == RFC_KEY
    assert c.accept.accept == RFC_ACCEPT and c.protocol is None and c.extensions is None


@pytest.mark.parametrize("raw,rule,rfc,status,where", [
    (request(*GOOD, first="POST /chat HTTP/1.1"), "the method must be GET",
     "RFC 6455 §4.2.1", 400, b"POST"),
    (request(*GOOD, first="GET /chat HTTP/1.0"), "the HTTP version must be 1.1 or higher",
     "RFC 6455 §4.2.1", 400, b"HTTP/1.0"),
    (request(*GOOD, first="GET chat HTTP/1.1"),
     "the request target must be a path or an absolute http(s) URI",
     "RFC 6455 §4.2.1", 400, b"chat"),
    (request(*without("Host")), "a Host header is required", "RFC 6455 §4.2.1", 400, None),
    (request(*GOOD, "Host: other"), "exactly one Host header is allowed",
     "RFC 9112 §3.2", 400, b"Host: other"),
    (request(*without("Upgrade")), "a Upgrade header is required",
     "RFC 6455 §4.2.1", 400, None),
    (request(*replace("Upgrade", "h2c")), "the Upgrade header must contain the token "
     "websocket", "RFC 6455 §4.2.1", 400, b"h2c"),
    (request(*without("Connection")), "a Connection header is required",
     "RFC 6455 §4.2.1", 400, None),
    (request(*replace("Connection", "keep-alive")), "the Connection header must contain "
     "the token Upgrade", "RFC 6455 §4.2.1", 400, b"keep-alive"),
    (request(*without("Sec-WebSocket-Key")), "a Sec-WebSocket-Key header is required",
     "RFC 6455 §4.2.1", 400, None),
    (request(*replace("Sec-WebSocket-Key", "c2hvcnQ=")),
     "Sec-WebSocket-Key must be the base64 of 16 bytes", "RFC 6455 §4.2.1", 400, b"c2hvcnQ="),
    (request(*GOOD, f"Sec-WebSocket-Key: {RFC_KEY}"), "Sec-WebSocket-Key must appear once",
     "RFC 6455 §11.3.1", 400, f"Sec-WebSocket-Key: {RFC_KEY}\r\n\r\n".encode()),
    (request(*without("Sec-WebSocket-Version")), "a Sec-WebSocket-Version header is required",
     "RFC 6455 §4.4", 426, None),
    (request(*replace("Sec-WebSocket-Version", "8")), "Sec-WebSocket-Version must be 13",
     "RFC 6455 §4.4", 426, b"8\r\n"),
    (request(*GOOD, "Sec-WebSocket-Protocol: chat, chat"),
     "Sec-WebSocket-Protocol must be unique tokens", "RFC 6455 §4.1", 400, b"chat, chat"),
    (request(*GOOD, "Sec-WebSocket-Protocol: a/b"),
     "Sec-WebSocket-Protocol must be unique tokens", "RFC 6455 §4.1", 400, b"a/b"),
])
def test_each_request_rule(raw, rule, rfc, status, where):
    c = checked(raw)
    assert not c.ok and c.status == status
    assert [(p.rule, p.rfc, p.status) for p in c.problems] == [(rule, rfc, status)]
    assert c.problems[0].offset == (offset_of(raw, where) if where else -1)
    assert c.problems[0].detail


@pytest.mark.parametrize("name", ["Host", "Upgrade", "Connection", "Sec-WebSocket-Key",
                                  "Sec-WebSocket-Version"])
def test_a_missing_request_header_is_named_not_shown_as_none(name):
    c = checked(request(*without(name)))
    [p] = c.problems
    assert p.detail == f"{name} header missing" and p.missing == name
    assert "None" not in p.detail
    # the refusal a server builds from it reads the same
    assert f"{name} header missing".encode() in build_error_response(c.status, p.detail)


def test_origin_missing_is_named_too():
    c = checked(request(*GOOD), allowed_origins={"https://example.com"})
    assert [(p.detail, p.missing) for p in c.problems] == [("Origin header missing", "Origin")]


def test_a_wrong_header_value_is_quoted_with_its_name():
    raw = request(*(l if not l.startswith("Upgrade") else "Upgrade: h2c"
                    for l in replace("Sec-WebSocket-Version", "8")))
    c = checked(raw)
    details = {p.rule: p.detail for p in c.problems}
    assert details == {"the Upgrade header must contain the token websocket": "Upgrade: 'h2c'",
                       "Sec-WebSocket-Version must be 13": "Sec-WebSocket-Version: '8'"}
    assert all(p.missing is None for p in c.problems)


def test_token_matching_is_case_insensitive_inside_lists():
    c = checked(request(*replace("Upgrade", "h2c, WebSocket"))[:-2]
                + b"Connection: keep-alive, UPGRADE\r\n\r\n")
    assert c.ok


def test_400_wins_over_426_and_403():
    raw = request(*without("Host", "Sec-WebSocket-Version: 7", "Origin: http://evil"))
    c = checked(raw, allowed_origins={"http://good"})
    assert {p.status for p in c.problems} == {400, 426, 403} and c.status == 400
    c = checked(request(*replace("Sec-WebSocket-Version", "7"), "Origin: http://evil"),
                allowed_origins={"http://good"})
    assert c.status == 426


def test_origin_checks():
    ok = request(*GOOD, "Origin: HTTP://Example.com")
    assert checked(ok, allowed_origins={"http://example.com"}).ok
    assert checked(ok).ok  # no policy, no check
    c = checked(ok, allowed_origins={"https://example.com"})
    assert c.status == 403 and c.problems[0].offset == offset_of(ok, b"HTTP://Example.com")
    assert c.problems[0].rfc == "RFC 6455 §4.2.2"
    no_origin = request(*GOOD)
    assert checked(no_origin, allowed_origins={"http://example.com"}).status == 403
    assert checked(no_origin, allowed_origins={"http://example.com", None}).ok


def test_subprotocol_choice_follows_client_order():
    raw = request(*GOOD, "Sec-WebSocket-Protocol: v2.chat, v1.chat", "Sec-WebSocket-Protocol: x")
    assert checked(raw, supported_protocols=["v1.chat", "v2.chat"]).protocol == "v2.chat"
    assert checked(raw, supported_protocols=["x"]).protocol == "x"
    assert checked(raw, supported_protocols=["other"]).protocol is None
    assert checked(raw, supported_protocols=["other"]).ok


def test_extensions_are_negotiated_through_the_callable():
    raw = request(*GOOD, "Sec-WebSocket-Extensions: x-foo, permessage-deflate; "
                         "client_max_window_bits")
    seen = []

    def pick(value):
        seen.append(value)
        got = negotiate(value)
        return got[1] if got else None

    c = checked(raw, supported_extensions=pick)
    assert seen == ["x-foo, permessage-deflate; client_max_window_bits"]
    assert c.ok and c.extensions == "permessage-deflate"
    assert b"Sec-WebSocket-Extensions: permessage-deflate\r\n" in build_response(c)
    assert checked(raw).extensions is None
    bad = request(*GOOD, "Sec-WebSocket-Extensions: permessage-deflate; =")
    c = checked(bad, supported_extensions=pick)
    assert not c.ok and c.problems[0].rfc == "RFC 6455 §9.1"
    assert c.problems[0].offset == bad.rindex(b"; =") + 2


# --- check_response: the client's rules of RFC 6455 §4.1 -------------------------------------


def response(*lines: str, first="HTTP/1.1 101 Switching Protocols") -> hs.Response:
    return parse_response(("\r\n".join((first,) + lines) + "\r\n\r\n").encode())


RGOOD = ("Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Accept: {RFC_ACCEPT}")


def test_a_good_response_passes():
    assert check_response(parse_response(TEXTBOOK_RESPONSE), key=RFC_KEY,
                          offered_protocols=["chat", "superchat"]) == []
    assert check_response(response("Upgrade: WebSocket", "Connection: keep-alive, upgrade",
                                   f"Sec-WebSocket-Accept: {RFC_ACCEPT}",
                                   "Sec-WebSocket-Extensions: permessage-deflate"),
                          key=RFC_KEY, offered_extensions="permessage-deflate; "
                          "client_max_window_bits") == []


@pytest.mark.parametrize("lines,first,kw,rule", [
    (RGOOD, "HTTP/1.1 200 OK", {}, "the status must be 101 Switching Protocols"),
    (RGOOD, "HTTP/1.0 101 Switching Protocols", {}, "the response must be HTTP/1.1"),
    (RGOOD[1:], None, {}, "a Upgrade header is required"),
    (("Upgrade: websocket, h2c",) + RGOOD[1:], None, {}, "the Upgrade header must be websocket"),
    (RGOOD[:1] + RGOOD[2:], None, {}, "a Connection header is required"),
    (RGOOD[:2], None, {}, "a Sec-WebSocket-Accept header is required"),
    (RGOOD[:2] + ("Sec-WebSocket-Accept: " + derive_accept("x" * 24).accept,), None, {},
     "Sec-WebSocket-Accept must be base64(SHA-1(key + GUID))"),
    (RGOOD + ("Sec-WebSocket-Protocol: chat",), None, {},
     "Sec-WebSocket-Protocol must be one the client offered"),
    (RGOOD + ("Sec-WebSocket-Protocol: chat",), None, {"offered_protocols": ["superchat"]},
     "Sec-WebSocket-Protocol must be one the client offered"),
    (RGOOD + ("Sec-WebSocket-Extensions: permessage-deflate",), None, {},
     "Sec-WebSocket-Extensions names an extension the client did not offer"),
    (RGOOD + ("Sec-WebSocket-Extensions: x-other",), None,
     {"offered_extensions": "permessage-deflate"},
     "Sec-WebSocket-Extensions names an extension the client did not offer"),
])
def test_each_response_rule(lines, first, kw, rule):
    resp = response(*lines, first=first or "HTTP/1.1 101 Switching Protocols")
    probs = check_response(resp, key=RFC_KEY, **kw)
    assert [p.rule for p in probs] == [rule]
    assert probs[0].rfc == "RFC 6455 §4.1"
    if probs[0].offset >= 0:
        assert 0 <= probs[0].offset < len(resp.head)


@pytest.mark.parametrize("lines, missing", [
    (RGOOD[1:], "Upgrade"),
    (RGOOD[:1] + RGOOD[2:], "Connection"),
    (RGOOD[:2], "Sec-WebSocket-Accept"),
])
def test_a_missing_response_header_is_named_not_shown_as_none(lines, missing):
    [p] = check_response(response(*lines), key=RFC_KEY)
    assert p.detail.startswith(f"{missing} header missing") and p.missing == missing
    assert "None" not in p.detail


def test_no_problem_detail_ever_says_none():
    """Every rule this file breaks, on both sides: the details read as text."""
    requests = [request(*without(h)) for h in ("Host", "Upgrade", "Connection",
                                               "Sec-WebSocket-Key", "Sec-WebSocket-Version")]
    requests.append(request(first="POST x HTTP/1.0"))
    for raw in requests:
        for p in checked(raw, allowed_origins={"https://a"}).problems:
            assert "None" not in p.detail and p.detail, p
    resp = parse_response(b"HTTP/1.0 200 OK\r\nSec-WebSocket-Protocol: x\r\n\r\n")
    problems = check_response(resp, key=RFC_KEY)
    assert len(problems) == 6
    assert all("None" not in p.detail for p in problems), problems
    wrong = check_response(response(*RGOOD[:2], "Sec-WebSocket-Accept: " + RFC_KEY), key=RFC_KEY)
    assert wrong[0].detail == f"Sec-WebSocket-Accept: {RFC_KEY!r}, expected {RFC_ACCEPT!r}"


# --- the extension header grammar (RFC 6455 §9.1) ---------------------------------------------


def test_parse_extensions_grammar():
    assert parse_extensions('foo, bar; baz=2;qux ; q="tok",permessage-deflate') == [
        ("foo", {}), ("bar", {"baz": "2", "qux": None, "q": "tok"}),
        ("permessage-deflate", {})]
    assert hs.format_extension("bar", {"baz": "2", "qux": None}) == "bar; baz=2; qux"


@pytest.mark.parametrize("value,offset", [
    ("", 0), ("foo;", 4), ("foo bar", 4), ("foo; a=", 7), ('foo; a="x y"', 7),
    ('foo; a="x', 7), ("fo/o", 2), ("foo; =1", 5),
])
def test_parse_extensions_errors(value, offset):
    with pytest.raises(HandshakeError) as e:
        parse_extensions(value)
    assert e.value.offset == offset and e.value.rfc == "RFC 6455 §9.1"


tokens = st.text(st.sampled_from("abcxyz-_019"), min_size=1, max_size=8)
ext_lists = st.lists(st.tuples(tokens, st.lists(st.tuples(tokens, st.none() | tokens),
                                                max_size=4)), min_size=1, max_size=4)


@given(ext_lists)
def test_extension_headers_agree_with_websockets(exts):
    from websockets.headers import build_extension, parse_extension
    value = build_extension(exts)
    assert [(n, list(p)) for n, p in hs.parse_extensions_raw(value)] == \
        [(n, list(p)) for n, p in parse_extension(value)]
    ours = ", ".join(hs.format_extension(n, p) for n, p in exts)
    assert [(n, list(p)) for n, p in parse_extension(ours)] == [(n, list(p)) for n, p in exts]


# --- interop with websockets' sans-I/O protocol objects ---------------------------------------


def test_websockets_client_against_our_server_side():
    from websockets.client import ClientProtocol
    from websockets.protocol import State
    from websockets.uri import parse_uri

    client = ClientProtocol(parse_uri("ws://example.com/chat"), subprotocols=["chat"],
                            origin="http://example.com")
    client.send_request(client.connect())
    raw = b"".join(client.data_to_send())
    n = head_length(raw)
    assert n == len(raw)
    check = check_request(parse_request(raw[:n]), allowed_origins={"http://example.com"},
                          supported_protocols=["superchat", "chat"])
    assert check.ok and check.protocol == "chat"
    client.receive_data(build_response(check))
    assert client.state is State.OPEN and client.handshake_exc is None


def test_websockets_client_rejects_our_forged_accept():
    from websockets.client import ClientProtocol
    from websockets.protocol import State
    from websockets.uri import parse_uri

    client = ClientProtocol(parse_uri("ws://example.com/chat"))
    client.send_request(client.connect())
    raw = b"".join(client.data_to_send())
    check = check_request(parse_request(raw))
    client.receive_data(build_response(check, accept=derive_accept(new_key()).accept))
    assert client.state is not State.OPEN and client.handshake_exc is not None


def test_our_client_side_against_websockets_server():
    from websockets.server import ServerProtocol

    server = ServerProtocol(subprotocols=["superchat"])
    key = new_key()
    server.receive_data(build_request("example.com", "/chat", key,
                                      protocols=["chat", "superchat"],
                                      extensions="permessage-deflate; client_max_window_bits"))
    [req] = server.events_received()
    server.send_response(server.accept(req))
    raw = b"".join(server.data_to_send())
    resp = parse_response(raw[:head_length(raw)])
    assert resp.status == 101
    assert check_response(resp, key=key, offered_protocols=["chat", "superchat"],
                          offered_extensions="permessage-deflate; client_max_window_bits") == []
    # and the same answer judged against a different key fails exactly one rule
    assert [p.rule for p in check_response(resp, key=new_key(), offered_protocols=["superchat"],
                                           offered_extensions="permessage-deflate")] == \
        ["Sec-WebSocket-Accept must be base64(SHA-1(key + GUID))"]


def test_websockets_server_refusal_parses():
    from websockets.server import ServerProtocol

    server = ServerProtocol()
    server.receive_data(request(*replace("Sec-WebSocket-Version", "8")))
    [req] = server.events_received()
    server.send_response(server.accept(req))
    raw = b"".join(server.data_to_send())
    resp = parse_response(raw[:head_length(raw)])
    # websockets answers a version mismatch with 400 (we answer 426, RFC 6455 §4.4)
    assert resp.status == 400 and int(resp.get("Content-Length")) == len(raw) - len(resp.head)
    assert [p.rule for p in check_response(resp, key=RFC_KEY)][0] == \
        "the status must be 101 Switching Protocols"


def test_split_points_do_not_matter_to_head_length():
    raw = TEXTBOOK_REQUEST + b"tail"
    for cut in itertools.chain(range(0, len(raw), 7), [len(raw)]):
        got = head_length(raw[:cut])
        assert got is None if cut < len(TEXTBOOK_REQUEST) else got == len(TEXTBOOK_REQUEST)


def test_bytes_after_the_head_are_not_part_of_it():
    req = parse_request(TEXTBOOK_REQUEST + b"\x81\x05Hello")
    assert req.head == TEXTBOOK_REQUEST
    # a large first frame right behind the head does not count against MAX_HEAD
    assert parse_request(TEXTBOOK_REQUEST + bytes(2 * MAX_HEAD)).head == TEXTBOOK_REQUEST
    with pytest.raises(HandshakeError) as e:
        parse_request(b"GET / HTTP/1.1\r\nX: " + b"a" * MAX_HEAD + b"\r\n\r\n")
    assert e.value.status == 431


def test_core_imports_only_the_standard_library():
    import subprocess
    import sys
    code = ("import sys; before = set(sys.modules);"
            "import wssviz.core.handshake, wssviz.core.frames, wssviz.core.deflate;"
            "new = {m.split('.')[0] for m in set(sys.modules) - before};"
            "print(sorted(new - set(sys.stdlib_module_names) - {'wssviz'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_the_key_module_alone_gives_the_rfc_accept_and_handshake_reexports_it():
    from wssviz.core import handshake, key

    assert key.derive_accept(RFC_KEY).accept == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert key.decode_key(RFC_KEY) == b"the sample nonce" and key.decode_key("x" * 24) is None
    for name in ("GUID", "AcceptDerivation", "decode_key", "derive_accept", "new_key"):
        assert getattr(handshake, name) is getattr(key, name)
