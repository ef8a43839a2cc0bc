"""wssviz.dissect.tls_messages and names: Field trees for real handshake messages."""

from __future__ import annotations

import hashlib
import ssl
import subprocess
import sys
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers_tls import run_tls_pair
from test_decrypt import RFC8448_S_HS_TRAFFIC, RFC8448_SERVER_FLIGHT
from test_tls_records import RFC8448_CH, RFC8448_SH, clear_handshake_messages, contexts, hs
from wssviz import explain
from wssviz.core import tls_records as tr
from wssviz.core.tls_records import HandshakeBuffer, TLSFormatError, split_records
from wssviz.dissect import names, x509
from wssviz.dissect.decrypt import SUITES, RecordDecryptor, tls13_traffic_keys
from wssviz.dissect.tls_messages import describe_alert, describe_ccs, describe_handshake
from wssviz.live.certs import CA
from wssviz.steps import Field, Msg


def check_tree(f: Field, size: int, parent: Field | None = None) -> None:
    """Every field has a dotted id and a value a learner can read (a literal or a catalog
    message that the catalog knows), every data span lies in the message and inside its
    parent."""
    f.check()
    assert "." in f.id, f.id
    shown = explain.value(f, "en")
    assert isinstance(shown, str) and shown, f
    if isinstance(f.value, Msg):
        assert shown != f.value.key, f"catalog has no {f.value.key!r}"
    if f.of == "data":
        assert 0 <= f.start <= f.end <= size, f
        if parent is not None and parent.of == "data":
            assert parent.start <= f.start and f.end <= parent.end, (parent.id, f.id)
    else:
        assert f.of == "none" and f.start == f.end == 0
    for c in f.children:
        check_tree(c, size, f)


def child(f: Field, id: str) -> Field:
    found = [c for c in f.children if c.id == id]
    assert found, f"{f.id} has no child {id!r}: {[c.id for c in f.children]}"
    return found[0]


LAYOUT = ("tls.length", "tls.ext.type")  # the length prefixes and extension types every byte has


def parts(f: Field) -> list[Field]:
    """A field's children that carry values (its length prefixes and types left out)."""
    return [c for c in f.children if c.id not in LAYOUT and not c.id.startswith("x509.der.")]


def ids(f: Field) -> list[str]:
    return [c.id for c in parts(f)]


def raws(f: Field, id: str) -> list:
    """The raw values of every field with ``id`` under ``f``."""
    return [g.raw for g in f.walk() if g.id == id]


def said(d) -> str:
    """A described message's summary as a learner reads it (English)."""
    return explain.text(d.summary, "en")


def described(msg: bytes, **kw):
    d = describe_handshake(msg, **kw)
    assert len(d.fields) == 1 and d.fields[0].raw == msg[0]
    assert (d.fields[0].start, d.fields[0].end) == (0, len(msg))
    check_tree(d.fields[0], len(msg))
    assert isinstance(d.summary, Msg) and d.fields[0].value == d.summary
    text = said(d)
    assert text and text != d.summary.key and "\n" not in text
    return d


# --- RFC 8448 -----------------------------------------------------------------------------


def test_rfc8448_client_hello_fields():
    d = described(RFC8448_CH, tls13=None, from_client=True)
    top = d.fields[0]
    assert d.name == "ClientHello" and top.id == "tls.client_hello" and explain.label(top) == "ClientHello"
    p = "tls.client_hello"
    assert ids(top) == [
        "tls.handshake.type", "tls.handshake.length", f"{p}.legacy_version", f"{p}.random",
        f"{p}.session_id", f"{p}.cipher_suites", f"{p}.compression_methods", "tls.extensions"]
    assert child(top, "tls.handshake.type").raw == 1
    assert child(top, "tls.handshake.length").raw == 192
    assert child(top, f"{p}.legacy_version").raw == 0x0303
    suites = child(top, f"{p}.cipher_suites")
    assert suites.raw == [0x1301, 0x1303, 0x1302] == [c.raw for c in parts(suites)]
    assert [explain.value(c) for c in parts(suites)] == [
        "0x1301 TLS_AES_128_GCM_SHA256", "0x1303 TLS_CHACHA20_POLY1305_SHA256",
        "0x1302 TLS_AES_256_GCM_SHA384"]
    for c in parts(suites):
        assert c.id == f"{p}.suite" and c.raw == int.from_bytes(RFC8448_CH[c.start:c.end], "big")
    exts = child(top, "tls.extensions")
    assert ids(exts) == [
        "tls.ext.server_name", "tls.ext.renegotiation_info", "tls.ext.supported_groups",
        "tls.ext.session_ticket", "tls.ext.key_share", "tls.ext.supported_versions",
        "tls.ext.signature_algorithms", "tls.ext.psk_key_exchange_modes", "tls.ext.record_size_limit"]
    assert exts.raw == [0, 0xFF01, 10, 35, 51, 43, 13, 45, 28] == [c.raw for c in parts(exts)]
    assert [explain.label(c) for c in parts(exts)][:2] == ["server_name", "renegotiation_info"]
    sni = child(exts, "tls.ext.server_name")
    host = child(sni, "tls.ext.server_name.host_name")
    assert host.raw == "server" and RFC8448_CH[host.start:host.end] == b"server"
    ks = child(exts, "tls.ext.key_share")
    entry = child(ks, "tls.ext.key_share.entry")
    assert entry.raw == 0x001D and child(entry, "tls.ext.key_share.group").raw == 0x001D
    key = child(entry, "tls.ext.key_share.key_exchange")
    assert RFC8448_CH[key.start:key.end] == key.raw and len(key.raw) == 32
    assert raws(child(exts, "tls.ext.supported_versions"), "tls.ext.supported_versions.version") == [0x0304]
    assert raws(child(exts, "tls.ext.psk_key_exchange_modes"), "tls.ext.psk_key_exchange_modes.mode") == [1]
    assert said(d) == "offers TLS 1.3, 3 suites, key shares x25519; SNI server"
    assert child(top, f"{p}.random").raw == RFC8448_CH[6:38]
    assert d.parsed.random.value == RFC8448_CH[6:38]


def test_rfc8448_server_hello_fields():
    d = described(RFC8448_SH, tls13=None, from_client=False)
    top = d.fields[0]
    assert d.name == "ServerHello" and top.id == "tls.server_hello"
    assert child(top, "tls.server_hello.cipher_suite").raw == 0x1301
    assert explain.value(child(top, "tls.server_hello.cipher_suite")) == "0x1301 TLS_AES_128_GCM_SHA256"
    sel = child(top, "tls.server_hello.selected_version")
    assert sel.raw == 0x0304 and RFC8448_SH[sel.start:sel.end] == b"\x03\x04"
    assert not d.parsed.is_hrr
    share = child(child(top, "tls.extensions"), "tls.ext.key_share")
    assert raws(share, "tls.ext.key_share.group") == [0x001D]
    assert child(top, "tls.server_hello.random").raw == RFC8448_SH[6:38]
    assert said(d) == "picks TLS 1.3, TLS_AES_128_GCM_SHA256, key share x25519"


def rfc8448_server_messages() -> list[bytes]:
    dec = RecordDecryptor(SUITES[0x1301],
                          tls13_traffic_keys(SUITES[0x1301], bytes.fromhex(RFC8448_S_HS_TRAFFIC)))
    out = dec.decrypt(RFC8448_SERVER_FLIGHT[:5], RFC8448_SERVER_FLIGHT[5:])
    return [m for m, _ in HandshakeBuffer().feed(out.plaintext, 0)]


def test_rfc8448_encrypted_server_flight():
    ee, cert, cv, fin = rfc8448_server_messages()
    d = described(ee, tls13=True, from_client=False)
    assert d.name == "EncryptedExtensions" and d.fields[0].id == "tls.encrypted_extensions"
    assert ids(child(d.fields[0], "tls.extensions")) == [
        "tls.ext.supported_groups", "tls.ext.record_size_limit", "tls.ext.server_name"]

    d = described(cert, tls13=True, from_client=False)
    certs = child(d.fields[0], "tls.certificate.list")
    assert certs.raw == 1 and explain.value(certs) == "1 certificate"
    c1 = child(certs, "tls.certificate.entry")
    assert c1.n == 1 and explain.label(c1) == "certificate 1"
    assert child(c1, "x509.subject").raw == "CN=rsa"
    assert child(c1, "x509.public_key").value == Msg("value.rsa_bits", n=1024)
    der = d.parsed.entries[0].cert.value
    assert der in cert and said(d) == "rsa, issued by rsa (1 certificate)"

    d = described(cv, tls13=True, from_client=False)
    scheme = child(d.fields[0], "tls.certificate_verify.scheme")
    assert scheme.raw == 0x0804 and explain.value(scheme) == "0x0804 rsa_pss_rsae_sha256"
    sig = child(d.fields[0], "tls.certificate_verify.signature")
    assert cv[sig.start:sig.end] == sig.raw and len(sig.raw) == 128
    # The RFC's CertificateVerify really signs the transcript CH..Certificate.
    digest = hashlib.sha256(RFC8448_CH + RFC8448_SH + ee + cert).digest()
    check = x509.verify_signature(der, scheme.raw, sig.raw, x509.tls13_certificate_verify_content(digest))
    assert check.ok, check.detail
    assert explain.text(check.detail, "en") == "signature by rsa (rsa_pss_rsae_sha256): signature valid"

    d = described(fin, tls13=True, from_client=False)
    vd = child(d.fields[0], "tls.finished.verify_data")
    assert fin[vd.start:vd.end] == vd.raw and len(vd.raw) == 32


# --- real OpenSSL ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls13():
    return run_tls_pair(*contexts(ssl.TLSVersion.TLSv1_3))


@pytest.fixture(scope="module")
def tls12():
    return run_tls_pair(*contexts(ssl.TLSVersion.TLSv1_2))


def test_openssl_client_hello(tls13):
    (msg, _), = clear_handshake_messages(tls13.stream("c2s"))
    d = described(msg, tls13=None, from_client=True)
    exts = child(d.fields[0], "tls.extensions")
    host = child(child(exts, "tls.ext.server_name"), "tls.ext.server_name.host_name")
    assert msg[host.start:host.end] == b"server.example.com" and host.raw == "server.example.com"
    versions = child(exts, "tls.ext.supported_versions")
    assert [c.raw for c in parts(versions)] == [0x0304, 0x0303]
    assert [explain.value(c) for c in parts(versions)] == ["0x0304 TLS 1.3", "0x0303 TLS 1.2"]
    assert explain.value(versions) == "TLS 1.3, TLS 1.2"
    ks = child(exts, "tls.ext.key_share")
    assert raws(ks, "tls.ext.key_share.group") == [0x1D]
    assert [len(k) for k in raws(ks, "tls.ext.key_share.key_exchange")] == [32]
    assert raws(child(exts, "tls.ext.alpn"), "tls.ext.alpn.protocol") == ["http/1.1"]
    assert d.summary.params["versions"] == ["TLS 1.3", "TLS 1.2"]
    assert said(d).startswith("offers TLS 1.3, TLS 1.2, ")
    assert said(d).endswith("key shares x25519; SNI server.example.com; ALPN http/1.1")


def test_openssl_hello_retry_request():
    from wssviz.live.openssl_ext import set_groups
    client, server = contexts(ssl.TLSVersion.TLSv1_3)
    set_groups(client, "X25519:P-256")
    set_groups(server, "P-256")
    result = run_tls_pair(client, server)
    hrr = clear_handshake_messages(result.stream("s2c"))[0][0]
    d = described(hrr, tls13=True, from_client=False)
    top = d.fields[0]
    assert d.name == "HelloRetryRequest" and top.id == "tls.hello_retry_request" and d.parsed.is_hrr
    share = child(child(top, "tls.extensions"), "tls.ext.key_share")
    assert child(share, "tls.ext.key_share.selected_group").raw == 0x0017  # secp256r1
    assert said(d).startswith("asks the client to retry with key share secp256r1")
    rnd = child(top, "tls.hello_retry_request.random")
    assert rnd.raw == tr.HRR_RANDOM and rnd.value.key == "value.random_hrr"
    assert "HelloRetryRequest marker" in explain.value(rnd)


def test_openssl_tls12_flight_and_ske_signature(tls12):
    (ch, _), (cke, _) = clear_handshake_messages(tls12.stream("c2s"))
    server = [m for m, _ in clear_handshake_messages(tls12.stream("s2c"))]
    ch_d = described(ch, tls13=None, from_client=True)
    sh_d = described(server[0], tls13=None, from_client=False)
    assert child(sh_d.fields[0], "tls.server_hello.selected_version").raw == 0x0303
    rnd = child(sh_d.fields[0], "tls.server_hello.random")
    assert not isinstance(rnd.value, Msg)  # plain hex: no downgrade sentinel (server lacks TLS 1.3)
    assert rnd.raw[-8:] not in (b"DOWNGRD\x01", b"DOWNGRD\x00")
    cert_d = described(server[1], tls13=None, from_client=False)
    c1 = child(child(cert_d.fields[0], "tls.certificate.list"), "tls.certificate.entry")
    sans = child(c1, "x509.san")
    dns = child(sans, "x509.san.dns")
    assert server[1][dns.start:dns.end] == b"server.example.com" and dns.raw == "server.example.com"
    ske_d = described(server[2], tls13=False, from_client=False)
    top = ske_d.fields[0]
    p = "tls.server_key_exchange"
    assert child(top, f"{p}.curve").raw == 0x001D and explain.value(child(top, f"{p}.curve")) == "0x001d x25519"
    scheme = child(top, f"{p}.scheme")
    assert scheme.raw == 0x0403 and explain.value(scheme) == "0x0403 ecdsa_secp256r1_sha256"
    pub = child(top, f"{p}.public_key")
    assert server[2][pub.start:pub.end] == pub.raw == ske_d.parsed.public.value
    signature = child(top, f"{p}.signature").raw
    # RFC 5246 §7.4.3: the signature covers client_random + server_random + params.
    content = (child(ch_d.fields[0], "tls.client_hello.random").raw
               + child(sh_d.fields[0], "tls.server_hello.random").raw + ske_d.parsed.params.value)
    leaf = cert_d.parsed.entries[0].cert.value
    ok = x509.verify_signature(leaf, scheme.raw, signature, content)
    assert ok.ok, ok.detail
    bad = x509.verify_signature(leaf, scheme.raw, signature, content[:-1] + b"\x00")
    assert not bad.ok and bad.detail.params["result"] == Msg("check.sig_invalid")
    done = described(server[3], tls13=False, from_client=False)
    assert done.name == "ServerHelloDone" and done.fields[0].id == "tls.server_hello_done"
    nst = described(server[4], tls13=False, from_client=False)
    assert nst.name == "NewSessionTicket"
    lifetime = child(nst.fields[0], "tls.new_session_ticket.lifetime")
    assert lifetime.raw == 7200 and explain.value(lifetime).endswith("(2 h)")
    cke_d = described(cke, tls13=False, from_client=True)
    assert cke_d.name == "ClientKeyExchange"
    assert len(child(cke_d.fields[0], "tls.client_key_exchange.public_key").raw) == 32


def test_downgrade_sentinel_shown():
    client, server = contexts(ssl.TLSVersion.TLSv1_3)
    server.minimum_version = ssl.TLSVersion.TLSv1_2
    client.maximum_version = ssl.TLSVersion.TLSv1_2
    result = run_tls_pair(client, server)
    sh = clear_handshake_messages(result.stream("s2c"))[0][0]
    assert sh[30:38] == b"DOWNGRD\x01"  # RFC 8446 §4.1.3
    d = described(sh, tls13=None, from_client=False)
    rnd = child(d.fields[0], "tls.server_hello.random")
    assert rnd.value.key == "value.random_downgrade" and rnd.value.params["version"] == "TLS 1.2"
    assert "downgrade sentinel" in explain.value(rnd)
    assert child(d.fields[0], "tls.server_hello.selected_version").raw == 0x0303


def failed_tls12_handshake() -> bytes:
    """The client refuses the server's certificate: what it sends (c2s)."""
    client, server = contexts(ssl.TLSVersion.TLSv1_2, trusted=CA.create("Someone Else CA"))
    bios = [ssl.MemoryBIO() for _ in range(4)]
    c = client.wrap_bio(bios[0], bios[1], server_hostname="server.example.com")
    s = server.wrap_bio(bios[2], bios[3], server_side=True)
    c2s = b""
    for _ in range(10):
        for obj in (c, s):
            try:
                obj.do_handshake()
            except (ssl.SSLWantReadError, ssl.SSLError):
                pass
        out = bios[1].read()
        c2s += out
        bios[2].write(out)
        bios[0].write(bios[3].read())
    return c2s


def test_real_alert_from_refused_certificate():
    records, _ = split_records(failed_tls12_handshake())
    alerts = [r for r in records if r.content_type == 21]
    assert alerts, "the client tells the server why it gives up"
    d = describe_alert(alerts[-1].fragment)
    top = d.fields[0]
    assert top.id == "tls.alert" and top.raw == 48
    assert child(top, "tls.alert.level").raw == 2 and explain.value(child(top, "tls.alert.level")) == "2 fatal"
    assert child(top, "tls.alert.description").raw == 48
    assert explain.value(child(top, "tls.alert.description")) == "48 unknown_ca"
    assert said(d) == "fatal alert: unknown_ca"
    assert (d.parsed.level.value, d.parsed.description.value) == (2, 48)


def test_close_notify_and_ccs():
    d = describe_alert(b"\x01\x00")
    assert child(d.fields[0], "tls.alert.level").raw == 1
    assert child(d.fields[0], "tls.alert.description").raw == 0
    assert d.summary == Msg("summary.alert_close_notify") and said(d).startswith("close_notify")
    c = describe_ccs(b"\x01", tls13=True)
    assert c.name == "ChangeCipherSpec" and c.fields[0].id == "tls.change_cipher_spec"
    assert child(c.fields[0], "tls.change_cipher_spec.type").raw == 1
    assert c.summary == Msg("summary.ccs_tls13") and "compatibility" in said(c)
    with pytest.raises(TLSFormatError) as err:
        describe_ccs(b"\x00")
    assert err.value.code == "tls.ccs_byte"


# --- GREASE, malformed input ------------------------------------------------------------------------


def grease_client_hello() -> bytes:
    """A ClientHello shaped like Chrome's: GREASE suite, extension, group, version."""
    # key_share: one GREASE share (1-byte key) and one x25519 share (32-byte key)
    share = bytes.fromhex("1a1a000100") + bytes.fromhex("001d0020") + bytes(range(32))
    exts = (bytes.fromhex("3a3a0000") + bytes.fromhex("000a000600041a1a001d")
            + bytes.fromhex("002b0005042a2a0304")
            + b"\x00\x33" + (len(share) + 2).to_bytes(2, "big") + len(share).to_bytes(2, "big")
            + share)
    body = (b"\x03\x03" + bytes(32) + b"\x00" + bytes.fromhex("00060a0a13011302") + b"\x01\x00"
            + len(exts).to_bytes(2, "big") + exts)
    return hs(1, body)


def test_grease_naming():
    msg = grease_client_hello()
    d = described(msg, tls13=None, from_client=True)
    top = d.fields[0]
    suite1 = child(child(top, "tls.client_hello.cipher_suites"), "tls.client_hello.suite")
    assert suite1.n == 1 and suite1.raw == 0x0A0A and explain.value(suite1) == "0x0a0a GREASE"
    exts = child(top, "tls.extensions")
    assert parts(exts)[0].id == "tls.ext.grease" and parts(exts)[0].raw == 0x3A3A
    assert explain.label(parts(exts)[0]) == "GREASE (0x3a3a)"
    groups = child(exts, "tls.ext.supported_groups")
    assert [c.raw for c in parts(groups)] == [0x1A1A, 0x001D]
    assert [explain.value(c) for c in parts(groups)] == ["0x1a1a GREASE", "0x001d x25519"]
    assert explain.value(groups) == "x25519"  # GREASE left out of the summary
    assert explain.value(child(exts, "tls.ext.supported_versions")) == "TLS 1.3"
    ks = child(exts, "tls.ext.key_share")
    assert [e.raw for e in parts(ks)] == [0x1A1A, 0x001D]
    assert explain.value(ks) == "GREASE (0x1a1a) (GREASE), x25519 (32-byte key)"
    assert said(d) == "offers TLS 1.3, 2 suites, key shares x25519"
    assert names.cipher_suite(0xDADA) == "GREASE (0xdada)"
    assert names.label("version", 0x7A7A) == "0x7a7a GREASE"
    assert names.extension(0x1234) == Msg("value.unknown_code", code="0x1234")  # words: translated
    assert explain.text(names.extension(0x1234), "en") == "unknown (0x1234)"
    assert explain.text(names.label("cipher_suite", 0x1234), "en") == "0x1234 unknown"


def test_names_tables():
    assert names.cipher_suite(0x1301) == "TLS_AES_128_GCM_SHA256"
    assert names.label("cipher_suite", 0xC02F) == "0xc02f TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
    assert names.version(0x0304) == "TLS 1.3" and names.version(0x0303) == "TLS 1.2"
    assert names.extension(43) == "supported_versions" and names.extension(51) == "key_share"
    assert names.extension(27) == "compress_certificate"
    assert names.group(29) == "x25519" and names.group(0x11EC) == "X25519MLKEM768"
    assert names.signature_scheme(0x0403) == "ecdsa_secp256r1_sha256"
    assert names.signature_scheme(0x0804) == "rsa_pss_rsae_sha256"
    assert names.alert(0) == "close_notify" and names.label("alert", 42) == "42 bad_certificate"
    assert names.handshake_type(4) == "new_session_ticket"
    assert names.handshake_type(254) == "message_hash"
    assert names.content_type(24) == "heartbeat" and names.content_type(23) == "application_data"
    with pytest.raises(ValueError):
        names.label("colour", 1)


def test_names_import_is_lazy(tmp_path):
    code = ("import sys; import wssviz.dissect.names as n, wssviz.dissect.tls_messages; "
            "assert not any(m.startswith('scapy') for m in sys.modules), 'scapy at import'; "
            "n.preload(); print(n.cipher_suite(0x1301))")
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    first = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env)
    assert first.stdout.strip() == "TLS_AES_128_GCM_SHA256"
    memo = list((tmp_path / "wssviz").glob("scapy-*-tls-names.json"))
    assert len(memo) == 1  # scapy's tables were memoised for the next start
    again = ("import sys; import wssviz.dissect.names as n; n.preload(); "
             "print(n.cipher_suite(0x1301), any(m.startswith('scapy.layers') for m in sys.modules))")
    second = subprocess.run([sys.executable, "-c", again], check=True, capture_output=True, text=True, env=env)
    assert second.stdout.split() == ["TLS_AES_128_GCM_SHA256", "False"]


def test_malformed_messages_raise_format_errors():
    with pytest.raises(TLSFormatError):
        describe_handshake(b"\x01\x00", tls13=None, from_client=True)
    with pytest.raises(TLSFormatError) as err:
        describe_handshake(RFC8448_CH[:100], tls13=None, from_client=True)
    assert err.value.offset == 1 and err.value.code
    bad_cert = hs(11, b"\x00\x00\x08" + b"\x00\x00\x05" + b"\x30\x03\x02\x01\x05")
    with pytest.raises(TLSFormatError) as err:
        describe_handshake(bad_cert, tls13=False, from_client=False)
    assert err.value.layer == "x509" and err.value.offset == 10  # where the DER starts
    assert err.value.code == "x509.invalid"


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(RFC8448_CH) - 1), st.integers(0, 255))
def test_describe_is_total(at, byte):
    data = bytearray(RFC8448_CH)
    data[at] = byte
    for msg in (bytes(data), hs(data[0], bytes(data[4:]))):
        try:
            d = describe_handshake(msg, tls13=None, from_client=True)
        except TLSFormatError:
            continue
        check_tree(d.fields[0], len(msg))
