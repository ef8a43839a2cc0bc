"""wssviz.core.tls_records: records, handshake reassembly, structural parsers.

Real bytes come from OpenSSL (a client and server back to back over MemoryBIO)
and from RFC 8448 §3; hypothesis checks that every parser is total.
"""

from __future__ import annotations

import hashlib
import ssl
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers_tls import run_tls_pair
from wssviz.core import tls_records as tr
from wssviz.core.tls_records import (HRR_RANDOM, ContentType, ExtensionType, HandshakeBuffer,
                                     HandshakeType, TLSFormatError, split_records)
from wssviz.live.certs import CA
from wssviz.live.openssl_ext import set_groups

# RFC 8448 §3 "Simple 1-RTT Handshake": {client} send handshake record (ClientHello, 196
# octets) and {server} ServerHello (90 octets), handshake headers included.
RFC8448_CH = bytes.fromhex(
    "010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece700000613011303"
    "130201000091"
    "0000000b0009000006736572766572ff01000100000a00140012001d001700180019010001010102010301040023"
    "0000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c002b"
    "0003020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d000201"
    "01001c00024001")
RFC8448_SH = bytes.fromhex(
    "020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e2692800130100002e0033"
    "0024001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304")
# RFC 8448 §3: the "hello hash" both sides feed into the handshake secrets.
RFC8448_HELLO_HASH = "860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8"


# --- real OpenSSL sessions ----------------------------------------------------------


def contexts(version: ssl.TLSVersion, ca: CA | None = None, trusted: CA | None = None):
    ca = ca or CA.create()
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.minimum_version = server.maximum_version = version
    ca.issue(["server.example.com"]).load_into(server)
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.minimum_version = ssl.TLSVersion.TLSv1_2
    client.maximum_version = ssl.TLSVersion.TLSv1_3
    client.load_verify_locations(cadata=(trusted or ca).cert_pem)
    client.set_alpn_protocols(["http/1.1"])
    server.set_alpn_protocols(["http/1.1"])
    return client, server


@pytest.fixture(scope="module")
def tls12():
    return run_tls_pair(*contexts(ssl.TLSVersion.TLSv1_2))


@pytest.fixture(scope="module")
def tls13():
    return run_tls_pair(*contexts(ssl.TLSVersion.TLSv1_3))


def clear_handshake_messages(stream: bytes) -> list[tuple[bytes, list[object]]]:
    """Handshake messages of the plaintext records before ChangeCipherSpec."""
    records, _ = split_records(stream)
    hb = HandshakeBuffer()
    out = []
    for i, rec in enumerate(records):
        if rec.content_type == ContentType.change_cipher_spec:
            break
        if rec.content_type == ContentType.handshake:
            out += hb.feed(rec.fragment, i)
    return out


# --- records ------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["tls12", "tls13"])
@pytest.mark.parametrize("direction", ["c2s", "s2c"])
def test_split_records_covers_real_stream(request, which, direction):
    stream = request.getfixturevalue(which).stream(direction)
    records, tail = split_records(stream)
    assert tail == len(stream)
    pos = 0
    for rec in records:
        assert rec.start == pos and rec.raw == stream[rec.start:rec.end]
        assert rec.header == stream[rec.start:rec.start + 5]
        assert rec.content_type in ContentType._value2member_map_
        pos = rec.end
    assert pos == len(stream)
    assert records[0].content_type == ContentType.handshake


def test_split_records_incomplete_tail_and_offset(tls13):
    stream = tls13.stream("s2c")
    first, _ = split_records(stream)
    for cut in range(0, first[1].end + 1):
        records, tail = split_records(stream[:cut], offset=1000)
        complete = [r for r in first if r.end <= cut]
        assert [(r.start - 1000, r.end - 1000) for r in records] == \
            [(r.start, r.end) for r in complete]
        assert tail == 1000 + (complete[-1].end if complete else 0)


def test_split_records_rejects_unknown_content_type():
    stream = bytes.fromhex("1503030002022a") + b"GET / HTTP/1.1\r\n"
    with pytest.raises(TLSFormatError) as err:
        split_records(stream, offset=40)
    assert err.value.offset == 47 and err.value.layer == "tls record"
    assert "RFC 8446 §5.1" in str(err.value) and "content type 71" in str(err.value)


def test_split_records_rejects_oversized_record():
    ok = bytes([23, 3, 3]) + (2**14 + 256).to_bytes(2, "big")
    assert split_records(ok) == ([], 0)  # allowed length, just incomplete
    bad = bytes([23, 3, 3]) + (2**14 + 257).to_bytes(2, "big")
    with pytest.raises(TLSFormatError) as err:
        split_records(b"\x15\x03\x03\x00\x02\x01\x00" + bad, offset=5)
    assert err.value.offset == 5 + 7 + 3 and "RFC 8446 §5.2" in str(err.value)


def test_content_and_handshake_type_numbers():
    assert [int(c) for c in ContentType] == [20, 21, 22, 23, 24]
    assert HandshakeType.new_session_ticket == 4 and HandshakeType.message_hash == 254
    assert HandshakeType(15).name == "certificate_verify"
    assert HRR_RANDOM == hashlib.sha256(b"HelloRetryRequest").digest()


# --- handshake reassembly ----------------------------------------------------------------


def test_handshake_buffer_several_messages_in_one_record(tls12):
    msgs = clear_handshake_messages(tls12.stream("s2c"))
    types = [m[0] for m, _ in msgs]
    assert types[:4] == [HandshakeType.server_hello, HandshakeType.certificate,
                         HandshakeType.server_key_exchange, HandshakeType.server_hello_done]
    for msg, tags in msgs:
        assert int.from_bytes(msg[1:4], "big") == len(msg) - 4
        assert len(tags) == 1


def test_handshake_buffer_messages_spanning_records(tls12):
    whole = clear_handshake_messages(tls12.stream("s2c"))
    flat = b"".join(m for m, _ in whole)
    hb = HandshakeBuffer()
    got = []
    for i in range(0, len(flat), 7):  # 7-byte "records", tagged by their start
        got += hb.feed(flat[i:i + 7], i)
    assert [m for m, _ in got] == [m for m, _ in whole]
    pos = 0
    for msg, tags in got:
        end = pos + len(msg)
        assert tags == [t for t in range(0, len(flat), 7) if t < end and t + 7 > pos]
        pos = end
    assert hb.pending == b""


def test_handshake_buffer_pending_and_limit():
    hb = HandshakeBuffer()
    assert hb.feed(b"\x14\x00\x00", "a") == []
    assert hb.pending == b"\x14\x00\x00"
    assert hb.feed(b"\x02xy\x0e", "b") == [(b"\x14\x00\x00\x02xy", ["a", "b"])]
    assert hb.feed(b"\x00\x00\x00", "c") == [(b"\x0e\x00\x00\x00", ["b", "c"])]
    big = HandshakeBuffer()
    big.feed(b"\x14\x00\x00\x00", "ok")
    with pytest.raises(TLSFormatError) as err:
        big.feed(b"\x0b" + (2**18 + 1).to_bytes(3, "big"), "x")
    assert err.value.offset == 5 and err.value.layer == "tls handshake"


# --- RFC 8448 hellos -------------------------------------------------------------------------


def test_rfc8448_hello_bytes_are_the_rfc_ones():
    assert hashlib.sha256(RFC8448_CH + RFC8448_SH).hexdigest() == RFC8448_HELLO_HASH


def test_rfc8448_client_hello():
    ch = tr.parse_client_hello(RFC8448_CH)
    assert ch.legacy_version.value == 0x0303
    assert RFC8448_CH[ch.random.start:ch.random.end].hex().startswith("cb34ecb1")
    assert ch.session_id.value == b""
    assert [s.value for s in ch.cipher_suites] == [0x1301, 0x1303, 0x1302]
    assert [m.value for m in ch.compression_methods] == [0]
    assert [e.type for e in ch.extensions] == [0, 0xFF01, 10, 35, 51, 43, 13, 45, 28]
    sni = tr.parse_extension_body(ch.extension(ExtensionType.server_name), RFC8448_CH,
                                  "client_hello")
    host = sni.names[0].name
    assert host.value == "server" and RFC8448_CH[host.start:host.end] == b"server"
    ks = tr.parse_extension_body(ch.extension(ExtensionType.key_share), RFC8448_CH, "client_hello")
    (entry,) = ks.entries
    assert entry.group.value == 0x001D
    assert entry.key.value.hex() == "99381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c"
    assert RFC8448_CH[entry.key.start:entry.key.end] == entry.key.value
    sv = tr.parse_extension_body(ch.extension(ExtensionType.supported_versions), RFC8448_CH,
                                 "client_hello")
    assert [i.value for i in sv.items] == [0x0304]
    groups = tr.parse_extension_body(ch.extension(10), RFC8448_CH, "client_hello")
    assert [g.value for g in groups.items] == [0x1D, 0x17, 0x18, 0x19, 0x100, 0x101, 0x102,
                                               0x103, 0x104]
    rsl = tr.parse_extension_body(ch.extension(28), RFC8448_CH, "client_hello")
    assert rsl.value.value == 0x4001


def test_rfc8448_server_hello():
    sh = tr.parse_server_hello(RFC8448_SH)
    assert not sh.is_hrr
    assert sh.cipher_suite.value == 0x1301
    assert tr.selected_version(sh) == 0x0304
    ks = tr.parse_extension_body(sh.extension(51), RFC8448_SH, "server_hello")
    assert ks.kind == "key_share_server"
    assert ks.entries[0].key.value.hex().startswith("c9828876")


# --- real OpenSSL messages ----------------------------------------------------------------------


def test_openssl_tls13_hellos(tls13):
    (ch, _), = clear_handshake_messages(tls13.stream("c2s"))
    hello = tr.parse_client_hello(ch)
    assert len(hello.session_id.value) == 32  # middlebox compatibility
    sni = tr.parse_extension_body(hello.extension(0), ch, "client_hello")
    span = sni.names[0].name
    assert ch[span.start:span.end] == b"server.example.com"
    sv = tr.parse_extension_body(hello.extension(43), ch, "client_hello")
    assert [i.value for i in sv.items] == [0x0304, 0x0303]
    alpn = tr.parse_extension_body(hello.extension(16), ch, "client_hello")
    assert [i.value for i in alpn.items] == [b"http/1.1"]
    pad = hello.extension(ExtensionType.padding)
    assert pad is None or set(pad.body) <= {0}
    sh_msg = clear_handshake_messages(tls13.stream("s2c"))[0][0]
    sh = tr.parse_server_hello(sh_msg)
    assert tr.selected_version(sh) == 0x0304 and not sh.is_hrr
    assert sh.session_id.value == hello.session_id.value


def test_openssl_hello_retry_request():
    client, server = contexts(ssl.TLSVersion.TLSv1_3)
    set_groups(client, "X25519:P-256")
    set_groups(server, "P-256")
    result = run_tls_pair(client, server)
    hrr_msg = clear_handshake_messages(result.stream("s2c"))[0][0]
    hrr = tr.parse_server_hello(hrr_msg)
    assert hrr.is_hrr
    ks = tr.parse_extension_body(hrr.extension(51), hrr_msg, "hello_retry_request")
    assert ks.kind == "key_share_hrr" and ks.value.value == 0x0017


def test_openssl_tls12_server_flight(tls12):
    msgs = [m for m, _ in clear_handshake_messages(tls12.stream("s2c"))]
    sh = tr.parse_server_hello(msgs[0])
    assert tr.selected_version(sh) == 0x0303
    cert = tr.parse_certificate(msgs[1], tls13=False)
    assert cert.request_context is None and len(cert.entries) == 1
    der = cert.entries[0].cert
    assert msgs[1][der.start:der.end] == der.value and der.value[0] == 0x30
    ske = tr.parse_server_key_exchange(msgs[2])
    assert ske.curve_type.value == 3
    assert msgs[2][ske.params.start:ske.params.end] == ske.params.value
    assert ske.params.value[-len(ske.public.value):] == ske.public.value
    assert ske.scheme.value == 0x0403
    tr.handshake_header(msgs[3], HandshakeType.server_hello_done).done("ServerHelloDone")
    nst = [m for m in msgs if m[0] == HandshakeType.new_session_ticket]
    assert nst, "OpenSSL sends a TLS 1.2 session ticket before its ChangeCipherSpec"
    ticket = tr.parse_new_session_ticket(nst[0], tls13=False)
    assert ticket.lifetime.value > 0 and len(ticket.ticket.value) > 16


def test_openssl_tls12_client_key_exchange(tls12):
    msgs = [m for m, _ in clear_handshake_messages(tls12.stream("c2s"))]
    cke = tr.parse_client_key_exchange(msgs[1])
    assert len(cke.public.value) == 32  # x25519


# --- hand-built messages for the shapes OpenSSL encrypts ----------------------------------------


def hs(msg_type: int, body: bytes) -> bytes:
    return bytes([msg_type]) + len(body).to_bytes(3, "big") + body


def test_tls13_certificate_with_entry_extensions():
    cert = b"\x30\x03\x02\x01\x05"
    entry = len(cert).to_bytes(3, "big") + cert + bytes.fromhex("0004" "00050000")
    msg = hs(11, b"\x00" + len(entry).to_bytes(3, "big") + entry)
    parsed = tr.parse_certificate(msg, tls13=True)
    (e,) = parsed.entries
    assert e.cert.value == cert and msg[e.cert.start:e.cert.end] == cert
    assert [x.type for x in e.extensions] == [5]
    with pytest.raises(TLSFormatError):
        tr.parse_certificate(msg, tls13=False)


def test_tls13_new_session_ticket_and_certificate_request():
    nst = hs(4, (7200).to_bytes(4, "big") + b"\x01\x02\x03\x04" + b"\x01\x00" + b"\x00\x03abc"
             + b"\x00\x08" + b"\x00\x2a\x00\x04\x00\x00\x40\x00")
    t = tr.parse_new_session_ticket(nst, tls13=True)
    assert (t.lifetime.value, t.age_add.value, t.nonce.value, t.ticket.value) == \
        (7200, 0x01020304, b"\x00", b"abc")
    body = tr.parse_extension_body(t.extensions[0], nst, "new_session_ticket")
    assert body.value.value == 0x4000
    cr = hs(13, b"\x00" + b"\x00\x08" + b"\x00\x0d\x00\x04\x00\x02\x08\x04")
    req = tr.parse_certificate_request(cr, tls13=True)
    assert req.request_context.value == b"" and req.extensions[0].type == 13
    cr12 = hs(13, b"\x01\x40" + b"\x00\x02\x04\x03" + b"\x00\x00")
    req12 = tr.parse_certificate_request(cr12, tls13=False)
    assert [i.value for i in req12.certificate_types] == [64]
    assert [i.value for i in req12.signature_algorithms] == [0x0403]


def test_alert_and_ccs():
    al = tr.parse_alert(b"\x02\x28")
    assert (al.level.value, al.description.value) == (2, 40)
    for bad in (b"", b"\x02", b"\x02\x28\x00"):
        with pytest.raises(TLSFormatError):
            tr.parse_alert(bad)
    assert tr.parse_ccs(b"\x01").value == 1
    with pytest.raises(TLSFormatError):
        tr.parse_ccs(b"\x02")


def test_errors_name_rule_rfc_and_offset():
    bad = bytearray(RFC8448_CH)
    bad[39:41] = b"\x00\x07"  # cipher_suites length (after 4 + 2 + 32 + 1 bytes): odd
    with pytest.raises(TLSFormatError) as err:
        tr.parse_client_hello(bytes(bad))
    assert err.value.layer == "tls handshake" and "RFC 8446 §4.1.2" in str(err.value)
    assert err.value.offset == 41 and "multiple of 2" in err.value.rule
    with pytest.raises(TLSFormatError) as err:
        tr.parse_client_hello(RFC8448_CH[:-1])
    assert err.value.offset == 1  # the length field disagrees with the bytes present
    dup = hs(8, b"\x00\x08" + b"\x00\x00\x00\x00" * 2)
    with pytest.raises(TLSFormatError, match="appears twice"):
        tr.parse_encrypted_extensions(dup)


def test_grease_values():
    grease = [0x0A0A, 0x1A1A, 0x2A2A, 0xFAFA]
    assert all(tr.is_grease(g) for g in grease)
    assert not any(tr.is_grease(v) for v in (0x0A1A, 0x1301, 0x0304, 0xAAAA & 0x0FFF, 0x0B0B))


def test_core_imports_only_the_standard_library():
    code = ("import sys; import wssviz.core.tls_records; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('scapy', 'cryptography')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    subprocess.run([sys.executable, "-c", code], check=True)


# --- totality -------------------------------------------------------------------------------------


PARSERS = [
    tr.parse_client_hello, tr.parse_server_hello, tr.parse_certificate_verify, tr.parse_finished,
    tr.parse_encrypted_extensions, tr.parse_server_key_exchange, tr.parse_client_key_exchange,
    lambda m: tr.parse_certificate(m, True), lambda m: tr.parse_certificate(m, False),
    lambda m: tr.parse_new_session_ticket(m, True), lambda m: tr.parse_new_session_ticket(m, False),
    lambda m: tr.parse_certificate_request(m, True),
    lambda m: tr.parse_certificate_request(m, False), tr.parse_alert, tr.parse_ccs,
]
CONTEXTS = ["client_hello", "server_hello", "hello_retry_request", "encrypted_extensions",
            "certificate", "certificate_request", "new_session_ticket"]


def run_everything(msg: bytes) -> None:
    for parse in PARSERS:
        try:
            parse(msg)
        except TLSFormatError:
            pass
    try:
        split_records(msg)
        HandshakeBuffer().feed(msg, 0)
    except TLSFormatError:
        pass
    for ext_type in [0, 5, 10, 11, 13, 16, 21, 22, 27, 28, 35, 41, 42, 43, 44, 45, 49, 50, 51,
                     0xFF01, 0x0A0A]:
        ext = tr.Extension(ext_type, 0, len(msg), msg[4:]) if len(msg) >= 4 else None
        for context in CONTEXTS:
            if ext is None:
                continue
            try:
                tr.parse_extension_body(ext, msg, context)
            except TLSFormatError:
                pass


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_parsers_are_total_on_random_bytes(data):
    run_everything(data)
    for t in (1, 2, 4, 8, 11, 12, 13, 15, 16, 20):
        run_everything(hs(t, data))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([RFC8448_CH, RFC8448_SH]), st.integers(0, 200), st.integers(0, 255),
       st.integers(0, 300))
def test_parsers_are_total_on_mutated_hellos(msg, at, byte, cut):
    data = bytearray(msg)
    data[at % len(data)] = byte
    run_everything(bytes(data))
    run_everything(bytes(data[:cut]))
    run_everything(hs(msg[0], bytes(data[4:cut])))
