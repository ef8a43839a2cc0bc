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
from wssviz.core.tls_records import HandshakeBuffer, TLSFormatError, split_records
from wssviz.dissect import names, x509
from wssviz.dissect.decrypt import SUITES, RecordDecryptor, tls13_traffic_keys
from wssviz.dissect.tls_messages import describe_alert, describe_ccs, describe_handshake
from wssviz.live.certs import CA
from wssviz.steps import Field


def check_tree(f: Field, size: int, parent: Field | None = None) -> None:
    """Every value is a str, every data span lies in the message and inside its parent."""
    assert isinstance(f.value, str) and f.value
    if f.of == "data":
        assert 0 <= f.start <= f.end <= size, f
        if parent is not None and parent.of == "data":
            assert parent.start <= f.start and f.end <= parent.end, (parent.name, f.name)
    else:
        assert f.of == "none" and f.start == f.end == 0
    for c in f.children:
        check_tree(c, size, f)


def child(f: Field, name: str) -> Field:
    found = [c for c in f.children if c.name == name]
    assert found, f"{f.name} has no child {name!r}: {[c.name for c in f.children]}"
    return found[0]


def described(msg: bytes, **kw):
    d = describe_handshake(msg, **kw)
    assert len(d.fields) == 1 and d.fields[0].name == d.name
    assert (d.fields[0].start, d.fields[0].end) == (0, len(msg))
    check_tree(d.fields[0], len(msg))
    assert d.summary and "\n" not in d.summary
    return d


# --- RFC 8448 -----------------------------------------------------------------------------


def test_rfc8448_client_hello_fields():
    d = described(RFC8448_CH, tls13=None, from_client=True)
    top = d.fields[0]
    assert d.name == "ClientHello"
    assert [c.name for c in top.children] == [
        "handshake type", "length", "legacy version", "random", "session id",
        "cipher suites", "compression methods", "extensions"]
    assert child(top, "handshake type").value == "1 client_hello"
    assert child(top, "length").value == "192 bytes"
    assert child(top, "legacy version").value == "0x0303 TLS 1.2"
    suites = child(top, "cipher suites")
    assert [c.value for c in suites.children] == [
        "0x1301 TLS_AES_128_GCM_SHA256", "0x1303 TLS_CHACHA20_POLY1305_SHA256",
        "0x1302 TLS_AES_256_GCM_SHA384"]
    for c in suites.children:
        assert int(c.value[:6], 16) == int.from_bytes(RFC8448_CH[c.start:c.end], "big")
    exts = child(top, "extensions")
    assert [c.name for c in exts.children] == [
        "server_name", "renegotiation_info", "supported_groups", "session_ticket", "key_share",
        "supported_versions", "signature_algorithms", "psk_key_exchange_modes",
        "record_size_limit"]
    sni = child(exts, "server_name")
    assert sni.value == "server"
    host = child(sni, "host name")
    assert RFC8448_CH[host.start:host.end] == b"server"
    ks = child(exts, "key_share")
    assert ks.value == "x25519 (32-byte key)"
    key = child(child(ks, "key share"), "key exchange")
    assert RFC8448_CH[key.start:key.end].hex() == key.value
    assert child(exts, "supported_versions").value == "TLS 1.3"
    assert child(exts, "psk_key_exchange_modes").value == "psk_dhe_ke"
    assert d.summary == "offers TLS 1.3, 3 suites, key shares x25519; SNI server"
    assert d.info["client_random"] == RFC8448_CH[6:38]
    assert d.info["sni"] == "server" and d.info["cipher_suites"] == [0x1301, 0x1303, 0x1302]


def test_rfc8448_server_hello_fields():
    d = described(RFC8448_SH, tls13=None, from_client=False)
    top = d.fields[0]
    assert d.name == "ServerHello"
    assert child(top, "cipher suite").value == "0x1301 TLS_AES_128_GCM_SHA256"
    sel = child(top, "selected version")
    assert sel.value == "0x0304 TLS 1.3" and RFC8448_SH[sel.start:sel.end] == b"\x03\x04"
    assert d.info["selected_version"] == 0x0304 and d.info["cipher_suite"] == 0x1301
    assert d.info["is_hrr"] is False and d.info["key_share_group"] == 0x001D
    assert d.info["server_random"] == RFC8448_SH[6:38]
    assert d.summary == "picks TLS 1.3, TLS_AES_128_GCM_SHA256, key share x25519"


def rfc8448_server_messages() -> list[bytes]:
    dec = RecordDecryptor(SUITES[0x1301],
                          tls13_traffic_keys(SUITES[0x1301], bytes.fromhex(RFC8448_S_HS_TRAFFIC)))
    out = dec.decrypt(RFC8448_SERVER_FLIGHT[:5], RFC8448_SERVER_FLIGHT[5:])
    return [m for m, _ in HandshakeBuffer().feed(out.plaintext, 0)]


def test_rfc8448_encrypted_server_flight():
    ee, cert, cv, fin = rfc8448_server_messages()
    d = described(ee, tls13=True, from_client=False)
    assert d.name == "EncryptedExtensions"
    assert [c.name for c in child(d.fields[0], "extensions").children] == [
        "supported_groups", "record_size_limit", "server_name"]

    d = described(cert, tls13=True, from_client=False)
    certs = child(d.fields[0], "certificates")
    assert certs.value == "1 certificate"
    c1 = child(certs, "certificate 1")
    assert child(c1, "subject").value == "CN=rsa"
    assert child(c1, "public key").value == "RSA 1024 bits"
    der = d.info["certificates"][0]
    assert der in cert and d.summary == "rsa, issued by rsa (1 certificate)"

    d = described(cv, tls13=True, from_client=False)
    assert child(d.fields[0], "signature scheme").value == "0x0804 rsa_pss_rsae_sha256"
    sig = child(d.fields[0], "signature")
    assert cv[sig.start:sig.end] == d.info["signature"] and len(d.info["signature"]) == 128
    # The RFC's CertificateVerify really signs the transcript CH..Certificate.
    digest = hashlib.sha256(RFC8448_CH + RFC8448_SH + ee + cert).digest()
    check = x509.verify_signature(der, d.info["signature_scheme"], d.info["signature"],
                                  x509.tls13_certificate_verify_content(digest))
    assert check.ok, check.detail
    assert check.detail == "signature by rsa (rsa_pss_rsae_sha256): signature valid"

    d = described(fin, tls13=True, from_client=False)
    vd = child(d.fields[0], "verify data")
    assert fin[vd.start:vd.end] == d.info["verify_data"] and len(d.info["verify_data"]) == 32


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
    exts = child(d.fields[0], "extensions")
    host = child(child(exts, "server_name"), "host name")
    assert msg[host.start:host.end] == b"server.example.com"
    assert child(exts, "supported_versions").value == "TLS 1.3, TLS 1.2"
    assert [c.value for c in child(exts, "supported_versions").children] == [
        "0x0304 TLS 1.3", "0x0303 TLS 1.2"]
    assert child(exts, "key_share").value == "x25519 (32-byte key)"
    assert child(exts, "alpn").value == "http/1.1"
    assert d.summary.startswith("offers TLS 1.3 and 1.2, ")
    assert d.summary.endswith("key shares x25519; SNI server.example.com; ALPN http/1.1")
    assert d.info["alpn"] == ["http/1.1"] and d.info["key_share_groups"] == [0x1D]


def test_openssl_hello_retry_request():
    from wssviz.live.openssl_ext import set_groups
    client, server = contexts(ssl.TLSVersion.TLSv1_3)
    set_groups(client, "X25519:P-256")
    set_groups(server, "P-256")
    result = run_tls_pair(client, server)
    hrr = clear_handshake_messages(result.stream("s2c"))[0][0]
    d = described(hrr, tls13=True, from_client=False)
    assert d.name == "HelloRetryRequest" and d.info["is_hrr"]
    assert child(child(d.fields[0], "extensions"), "key_share").value == "retry with secp256r1"
    assert d.summary.startswith("asks the client to retry with key share secp256r1")
    assert "HelloRetryRequest marker" in child(d.fields[0], "random").value


def test_openssl_tls12_flight_and_ske_signature(tls12):
    (ch, _), (cke, _) = clear_handshake_messages(tls12.stream("c2s"))
    server = [m for m, _ in clear_handshake_messages(tls12.stream("s2c"))]
    ch_d = described(ch, tls13=None, from_client=True)
    sh_d = described(server[0], tls13=None, from_client=False)
    assert sh_d.info["selected_version"] == 0x0303
    assert "downgrade" not in child(sh_d.fields[0], "random").value  # server lacks TLS 1.3
    cert_d = described(server[1], tls13=None, from_client=False)
    c1 = child(child(cert_d.fields[0], "certificates"), "certificate 1")
    sans = child(c1, "subject alt names")
    dns = child(sans, "DNS: server.example.com")
    assert server[1][dns.start:dns.end] == b"server.example.com"
    ske_d = described(server[2], tls13=False, from_client=False)
    top = ske_d.fields[0]
    assert child(top, "curve").value == "0x001d x25519"
    assert child(top, "signature scheme").value == "0x0403 ecdsa_secp256r1_sha256"
    pub = child(top, "public key")
    assert server[2][pub.start:pub.end] == ske_d.info["public_key"]
    # RFC 5246 §7.4.3: the signature covers client_random + server_random + params.
    content = ch_d.info["client_random"] + sh_d.info["server_random"] + ske_d.info["ske_params"]
    ok = x509.verify_signature(cert_d.info["certificates"][0], ske_d.info["signature_scheme"],
                               ske_d.info["signature"], content)
    assert ok.ok, ok.detail
    bad = x509.verify_signature(cert_d.info["certificates"][0], ske_d.info["signature_scheme"],
                                ske_d.info["signature"], content[:-1] + b"\x00")
    assert not bad.ok and "INVALID" in bad.detail
    assert described(server[3], tls13=False, from_client=False).name == "ServerHelloDone"
    nst = described(server[4], tls13=False, from_client=False)
    assert nst.name == "NewSessionTicket"
    assert child(nst.fields[0], "ticket lifetime").value.endswith("(2 h)")
    cke_d = described(cke, tls13=False, from_client=True)
    assert cke_d.name == "ClientKeyExchange" and len(cke_d.info["public_key"]) == 32


def test_downgrade_sentinel_shown():
    client, server = contexts(ssl.TLSVersion.TLSv1_3)
    server.minimum_version = ssl.TLSVersion.TLSv1_2
    client.maximum_version = ssl.TLSVersion.TLSv1_2
    result = run_tls_pair(client, server)
    sh = clear_handshake_messages(result.stream("s2c"))[0][0]
    assert sh[30:38] == b"DOWNGRD\x01"  # RFC 8446 §4.1.3
    d = described(sh, tls13=None, from_client=False)
    assert "downgrade sentinel" in child(d.fields[0], "random").value
    assert d.info["selected_version"] == 0x0303


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
    assert child(top, "level").value == "2 fatal"
    assert child(top, "description").value == "48 unknown_ca"
    assert d.summary == "fatal alert: unknown_ca"
    assert d.info == {"level": 2, "description": 48}


def test_close_notify_and_ccs():
    d = describe_alert(b"\x01\x00")
    assert child(d.fields[0], "level").value == "1 warning"
    assert child(d.fields[0], "description").value == "0 close_notify"
    assert d.summary.startswith("close_notify")
    c = describe_ccs(b"\x01", tls13=True)
    assert c.name == "ChangeCipherSpec" and "compatibility" in c.summary
    with pytest.raises(TLSFormatError):
        describe_ccs(b"\x00")


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
    assert child(child(top, "cipher suites"), "suite 1").value == "0x0a0a GREASE"
    exts = child(top, "extensions")
    assert exts.children[0].name == "GREASE (0x3a3a)"
    groups = child(exts, "supported_groups")
    assert [c.value for c in groups.children] == ["0x1a1a GREASE", "0x001d x25519"]
    assert groups.value == "x25519"
    assert child(exts, "supported_versions").value == "TLS 1.3"
    assert child(exts, "key_share").value == "GREASE (0x1a1a) (GREASE), x25519 (32-byte key)"
    assert d.summary == "offers TLS 1.3, 2 suites, key shares x25519"
    assert names.cipher_suite(0xDADA) == "GREASE (0xdada)"
    assert names.label("version", 0x7A7A) == "0x7a7a GREASE"
    assert names.extension(0x1234) == "unknown (0x1234)"
    assert names.label("cipher_suite", 0x1234) == "0x1234 unknown"


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
    assert err.value.offset == 1
    bad_cert = hs(11, b"\x00\x00\x08" + b"\x00\x00\x05" + b"\x30\x03\x02\x01\x05")
    with pytest.raises(TLSFormatError) as err:
        describe_handshake(bad_cert, tls13=False, from_client=False)
    assert err.value.layer == "x509" and err.value.offset == 10  # where the DER starts


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
