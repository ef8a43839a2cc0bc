"""wssviz.dissect.decrypt against RFC vectors and real OpenSSL sessions."""

from __future__ import annotations

import datetime
import os
import ssl
import tempfile
from dataclasses import dataclass, field

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from helpers_tls import run_tls_pair
from wssviz.dissect.decrypt import (
    SUITES,
    Decrypted,
    DecryptError,
    KeyLog,
    KeyLogError,
    RecordDecryptor,
    TrafficKeys,
    hkdf_expand_label,
    tls12_key_block,
    tls12_prf,
    tls13_next_secret,
    tls13_traffic_keys,
)
from wssviz.live.openssl_ext import key_update, set_groups, set_tls13_ciphersuites

# --- RFC 8448 §3 "Simple 1-RTT Handshake" -----------------------------------------

RFC8448_EARLY_SECRET = "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a"
RFC8448_DERIVED_FOR_HANDSHAKE = "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba"
RFC8448_S_HS_TRAFFIC = "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38"
RFC8448_S_AP_TRAFFIC = "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643"
RFC8448_C_HS_TRAFFIC = "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21"
RFC8448_EE = "080000240022000a00140012001d00170018001901000101010201030104001c0002400100000000"
RFC8448_SERVER_FINISHED = "140000209b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718"
# "{server} send handshake record: complete record (679 octets)"
RFC8448_SERVER_FLIGHT = bytes.fromhex(
    "17030302a2d1ff334a56f5bff6594a07cc87b580233f500f45e489e7f33af35edf7869fcf40aa40aa2b8ea73f848a7ca"
    "07612ef9f945cb960b4068905123ea78b111b429ba9191cd05d2a389280f526134aadc7fc78c4b729df828b5ecf7b13b"
    "d9aefb0e57f271585b8ea9bb355c7c79020716cfb9b1183ef3ab20e37d57a6b9d7477609aee6e122a4cf51427325250c"
    "7d0e509289444c9b3a648f1d71035d2ed65b0e3cdd0cbae8bf2d0b227812cbb360987255cc744110c453baa4fcd61092"
    "8d809810e4b7ed1a8fd991f06aa6248204797e36a6a73b70a2559c09ead686945ba246ab66e5edd8044b4c6de3fcf2a8"
    "9441ac66272fd8fb330ef8190579b3684596c960bd596eea520a56a8d650f563aad27409960dca63d3e688611ea5e22f"
    "4415cf9538d51a200c27034272968a264ed6540c84838d89f72c24461aad6d26f59ecaba9acbbb317b66d902f4f292a3"
    "6ac1b639c637ce343117b659622245317b49eeda0c6258f100d7d961ffb138647e92ea330faeea6dfa31c7a84dc3bd7e"
    "1b7a6c7178af36879018e3f252107f243d243dc7339d5684c8b0378bf30244da8c87c843f5e56eb4c5e8280a2b48052c"
    "f93b16499a66db7cca71e4599426f7d461e66f99882bd89fc50800becca62d6c74116dbd2972fda1fa80f85df881edbe"
    "5a37668936b335583b599186dc5c6918a396fa48a181d6b6fa4f9d62d513afbb992f2b992f67f8afe67f76913fa388cb"
    "5630c8ca01e0c65d11c66a1e2ac4c85977b7c7a6999bbf10dc35ae69f5515614636c0b9b68c19ed2e31c0b3b66763038"
    "ebba42f3b38edc0399f3a9f23faa63978c317fc9fa66a73f60f0504de93b5b845e275592c12335ee340bbc4fddd50278"
    "4016e4b3be7ef04dda49f4b440a30cb5d2af939828fd4ae3794e44f94df5a631ede42c1719bfdabf0253fe5175be898e"
    "750edc53370d2b"
)


def split_handshake(buf: bytes) -> list[tuple[int, bytes]]:
    """Complete handshake messages (type, whole message) in ``buf``; asserts no leftover."""
    out, i = [], 0
    while i < len(buf):
        n = int.from_bytes(buf[i + 1:i + 4], "big")
        assert i + 4 + n <= len(buf), "truncated handshake message"
        out.append((buf[i], buf[i:i + 4 + n]))
        i += 4 + n
    return out


def test_rfc8448_hkdf_expand_label_derive_secret():
    # Derive-Secret(early, "derived", "") = HKDF-Expand-Label(early, "derived", SHA-256(""), 32)
    import hashlib

    got = hkdf_expand_label(bytes.fromhex(RFC8448_EARLY_SECRET), "derived",
                            hashlib.sha256(b"").digest(), 32, "sha256")
    assert got.hex() == RFC8448_DERIVED_FOR_HANDSHAKE


@pytest.mark.parametrize("secret, key, iv", [
    (RFC8448_S_HS_TRAFFIC, "3fce516009c21727d0f2e4e86ee403bc", "5d313eb2671276ee13000b30"),
    (RFC8448_C_HS_TRAFFIC, "dbfaa693d1762c5b666af5d950258d01", "5bd3c71b836e0b76bb73265f"),
    (RFC8448_S_AP_TRAFFIC, "9f02283b6c9c07efc26bb9f2ac92e356", "cf782b88dd83549aadf1e984"),
])
def test_rfc8448_traffic_keys(secret, key, iv):
    keys = tls13_traffic_keys(SUITES[0x1301], bytes.fromhex(secret))
    assert (keys.key.hex(), keys.iv.hex()) == (key, iv)


def test_rfc8448_server_flight_decrypts():
    keys = tls13_traffic_keys(SUITES[0x1301], bytes.fromhex(RFC8448_S_HS_TRAFFIC))
    dec = RecordDecryptor(SUITES[0x1301], keys)
    rec = RFC8448_SERVER_FLIGHT
    assert len(rec) == 679
    out = dec.decrypt(rec[:5], rec[5:])
    assert out.content_type == 22 and out.padding == 0 and out.seq == 0
    assert out.nonce.hex() == "5d313eb2671276ee13000b30"  # seq 0: nonce is the iv
    assert out.aad == rec[:5]
    assert out.plaintext[0] == 0x08  # EncryptedExtensions first
    msgs = split_handshake(out.plaintext)
    assert [t for t, _ in msgs] == [8, 11, 15, 20]
    assert [len(m) for _, m in msgs] == [40, 445, 136, 36]
    assert msgs[0][1].hex() == RFC8448_EE
    assert msgs[-1][1].hex() == RFC8448_SERVER_FINISHED
    assert dec.seq == 1


def test_tampered_tag_raises_and_keeps_seq():
    keys = tls13_traffic_keys(SUITES[0x1301], bytes.fromhex(RFC8448_S_HS_TRAFFIC))
    dec = RecordDecryptor(SUITES[0x1301], keys)
    rec = bytearray(RFC8448_SERVER_FLIGHT)
    rec[-1] ^= 0x01
    with pytest.raises(DecryptError) as info:
        dec.decrypt(bytes(rec[:5]), bytes(rec[5:]))
    assert info.value.rfc == "RFC 8446 §5.2"
    assert info.value.offset == len(rec) - 16  # where the tag starts
    assert "bad_record_mac" in str(info.value)
    assert dec.seq == 0
    # The untouched record still opens with seq 0.
    assert dec.decrypt(RFC8448_SERVER_FLIGHT[:5], RFC8448_SERVER_FLIGHT[5:]).seq == 0


def test_tampered_header_fails_as_aad():
    keys = tls13_traffic_keys(SUITES[0x1301], bytes.fromhex(RFC8448_S_HS_TRAFFIC))
    dec = RecordDecryptor(SUITES[0x1301], keys)
    header = b"\x17\x03\x01" + RFC8448_SERVER_FLIGHT[3:5]  # legacy version changed
    with pytest.raises(DecryptError):
        dec.decrypt(header, RFC8448_SERVER_FLIGHT[5:])
    assert dec.seq == 0


@pytest.mark.parametrize("header, fragment, rfc, offset", [
    (b"\x17\x03\x03\x00\x05", b"\x00" * 4, "RFC 8446 §5.1", 3),  # length mismatch
    (b"\x17\x03\x03\x00\x10", b"\x00" * 16, "RFC 8446 §5.2", 5),  # shorter than tag + type
    (b"\x16\x03\x03\x00\x20", b"\x00" * 32, "RFC 8446 §5.2", 0),  # wrong outer type
    (b"\x17\x03\x03", b"", "RFC 8446 §5.1", 0),  # short header
])
def test_malformed_tls13_records(header, fragment, rfc, offset):
    dec = RecordDecryptor(SUITES[0x1301], TrafficKeys(b"k" * 16, b"i" * 12))
    with pytest.raises(DecryptError) as info:
        dec.decrypt(header, fragment)
    assert (info.value.rfc, info.value.offset) == (rfc, offset)
    assert dec.seq == 0


def test_suites_table():
    assert {s.code for s in SUITES.values()} == {0x1301, 0x1302, 0x1303, 0xC02B, 0xC02C,
                                                 0xC02F, 0xC030, 0xCCA8, 0xCCA9}
    assert SUITES[0x1302].name == "TLS_AES_256_GCM_SHA384" and SUITES[0x1302].hash == "sha384"
    assert SUITES[0xC02B].name == "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
    assert (SUITES[0xC02B].iv_len, SUITES[0xC02B].explicit_nonce_len) == (4, 8)
    assert (SUITES[0xCCA9].iv_len, SUITES[0xCCA9].explicit_nonce_len) == (12, 0)
    assert SUITES[0xCCA9].name == "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
    assert all(s.key_len == (16 if "128" in s.name else 32) for s in SUITES.values())


def test_tls12_prf_sha256_vector():
    # The TLS 1.2 P_SHA256 vector circulated on the IETF TLS WG list (also `openssl kdf TLS1-PRF`).
    out = tls12_prf(bytes.fromhex("9bbe436ba940f017b17652849a71db35"), b"test label",
                    bytes.fromhex("a0ba9f936cda311827a6f796ffd5198c"), 100, "sha256")
    assert out.hex() == (
        "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
        "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
        "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
        "87347b66")


# --- key log -----------------------------------------------------------------------

CR = "ab" * 32


def test_keylog_parse_and_lookup():
    log = KeyLog.parse([
        "# a comment",
        "",
        f"CLIENT_HANDSHAKE_TRAFFIC_SECRET {CR} {'11' * 32}",
        f"SERVER_TRAFFIC_SECRET_0 {CR.upper()} {'22' * 48}",
        f"CLIENT_HANDSHAKE_TRAFFIC_SECRET {CR} {'11' * 32}",  # duplicate: fine
        f"CLIENT_RANDOM {'cd' * 32} {'33' * 48}",
    ])
    s = log.secrets_for(bytes.fromhex(CR))
    assert s == {"CLIENT_HANDSHAKE_TRAFFIC_SECRET": bytes.fromhex("11" * 32),
                 "SERVER_TRAFFIC_SECRET_0": bytes.fromhex("22" * 48)}
    assert log.secrets_for(bytes.fromhex("cd" * 32)) == {"CLIENT_RANDOM": bytes.fromhex("33" * 48)}
    assert log.secrets_for(b"\x00" * 32) == {}
    assert len(log) == 2


@pytest.mark.parametrize("line, words", [
    (f"CLIENT_RANDOM {CR}", "3 space-separated"),
    (f"client_random {CR} {'33' * 48}", "upper-case"),
    (f"CLIENT_RANDOM {CR[:-1]} {'33' * 48}", "hex digits"),
    (f"CLIENT_RANDOM {'ab' * 31} {'33' * 48}", "32 bytes"),
    (f"CLIENT_RANDOM {CR} {'33' * 32}", "48 bytes"),
    (f"EXPORTER_SECRET {CR} {'zz' * 32}", "hex digits"),
    (f"EXPORTER_SECRET {CR} {'33' * 20}", "32 or 48"),
])
def test_keylog_malformed(line, words):
    with pytest.raises(KeyLogError) as info:
        KeyLog.parse(["# header", line])
    assert info.value.line_no == 2
    assert words in info.value.rule
    assert "line 2" in str(info.value)
    # Lenient mode skips the bad line and keeps the rest.
    log = KeyLog.parse([line, f"EXPORTER_SECRET {CR} {'44' * 32}"], strict=False)
    assert log.secrets_for(bytes.fromhex(CR)) == {"EXPORTER_SECRET": bytes.fromhex("44" * 32)}


def test_keylog_conflicting_secret():
    lines = [f"EXPORTER_SECRET {CR} {'44' * 32}", f"EXPORTER_SECRET {CR} {'45' * 32}"]
    with pytest.raises(KeyLogError) as info:
        KeyLog.parse(lines)
    assert info.value.line_no == 2


# --- real OpenSSL sessions ---------------------------------------------------------------

HOST = "server.example.com"
REQUEST = (b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"
           b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           b"Sec-WebSocket-Version: 13\r\n\r\n")
RESPONSE = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")


@dataclass
class Pki:
    ca_pem: str
    chain_pem: bytes  # leaf certificate + its private key


@pytest.fixture(scope="module")
def pki() -> Pki:
    """A throwaway EC P-256 CA and a leaf for server.example.com."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wssviz test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                         critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    chain = leaf.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return Pki(ca.public_bytes(serialization.Encoding.PEM).decode("ascii"), chain)


def make_contexts(pki: Pki, *, tls12_ciphers: str | None = None,
                  tls13_suites: str | None = None) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o700)
        path = os.path.join(tmp, "server.pem")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pki.chain_pem)
        try:
            server.load_cert_chain(path)
        finally:
            os.unlink(path)
    client = ssl.create_default_context(cadata=pki.ca_pem)
    if tls12_ciphers:
        for ctx in (client, server):
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_ciphers(tls12_ciphers)
    if tls13_suites:
        for ctx in (client, server):
            set_tls13_ciphersuites(ctx, tls13_suites)
    return client, server


@dataclass
class Rec:
    direction: str
    offset: int  # in that direction's stream
    header: bytes
    fragment: bytes

    @property
    def type(self) -> int:
        return self.header[0]


def split_records(direction: str, stream: bytes) -> list[Rec]:
    out, i = [], 0
    while i < len(stream):
        assert i + 5 <= len(stream), "stream ends inside a record header"
        n = int.from_bytes(stream[i + 3:i + 5], "big")
        assert i + 5 + n <= len(stream), "stream ends inside a record"
        out.append(Rec(direction, i, stream[i:i + 5], stream[i + 5:i + 5 + n]))
        i += 5 + n
    return out


def hello_random_and_suite(rec: Rec) -> tuple[bytes, int | None]:
    """ClientHello/ServerHello: the 32-byte random, and (ServerHello) the cipher suite."""
    body = rec.fragment
    assert rec.type == 22 and body[0] in (1, 2)
    random = body[6:38]
    if body[0] == 1:
        return random, None
    sid_len = body[38]
    return random, int.from_bytes(body[39 + sid_len:41 + sid_len], "big")


@dataclass
class Opened:
    records: list[tuple[Rec, Decrypted]] = field(default_factory=list)
    handshake: list[tuple[int, bytes]] = field(default_factory=list)
    app_data: bytes = b""
    alerts: list[bytes] = field(default_factory=list)


HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


def open_tls13(result) -> tuple[int, dict[str, Opened]]:
    """Decrypt every protected record of a TLS 1.3 session with the key log."""
    c2s = split_records("c2s", result.stream("c2s"))
    s2c = split_records("s2c", result.stream("s2c"))
    client_random, _ = hello_random_and_suite(c2s[0])
    server_hellos = [r for r in s2c if r.type == 22]
    code = None
    for r in server_hellos:
        random, suite_code = hello_random_and_suite(r)
        if random != HRR_RANDOM:
            code = suite_code
    suite = SUITES[code]
    secrets = KeyLog.parse(result.keylog).secrets_for(client_random)
    out = {}
    for direction, recs, side in (("c2s", c2s, "CLIENT"), ("s2c", s2c, "SERVER")):
        opened = Opened()
        app_secret = secrets[f"{side}_TRAFFIC_SECRET_0"]
        dec = RecordDecryptor(suite, tls13_traffic_keys(suite, secrets[f"{side}_HANDSHAKE_TRAFFIC_SECRET"]))
        hs_buf = b""
        for rec in recs:
            if rec.type != 23:  # ClientHello/ServerHello/HRR, middlebox-compat CCS
                assert rec.type in (20, 22)
                continue
            d = dec.decrypt(rec.header, rec.fragment)
            opened.records.append((rec, d))
            if d.content_type == 22:
                hs_buf += d.plaintext
                msgs = []
                while len(hs_buf) >= 4 and len(hs_buf) >= 4 + int.from_bytes(hs_buf[1:4], "big"):
                    n = 4 + int.from_bytes(hs_buf[1:4], "big")
                    msgs.append((hs_buf[0], hs_buf[:n]))
                    hs_buf = hs_buf[n:]
                for t, msg in msgs:
                    opened.handshake.append((t, msg))
                    if t == 20:  # Finished: application traffic keys from here on
                        dec = RecordDecryptor(suite, tls13_traffic_keys(suite, app_secret))
                    elif t == 24:  # KeyUpdate: next generation (RFC 8446 §4.6.3)
                        app_secret = tls13_next_secret(suite, app_secret)
                        dec = RecordDecryptor(suite, tls13_traffic_keys(suite, app_secret))
            elif d.content_type == 23:
                opened.app_data += d.plaintext
            elif d.content_type == 21:
                opened.alerts.append(d.plaintext)
            else:
                raise AssertionError(f"unexpected inner type {d.content_type}")
        assert hs_buf == b""
        out[direction] = opened
    return code, out


def check_tls13_session(result, expected_code: int):
    code, opened = open_tls13(result)
    assert code == expected_code
    assert result.client_cipher[0] == SUITES[code].name
    server, client = opened["s2c"], opened["c2s"]
    assert [t for t, _ in server.handshake] == [8, 11, 15, 20, 4, 4]
    assert [t for t, _ in client.handshake] == [20]
    assert client.app_data == REQUEST and result.received["server"] == REQUEST
    assert server.app_data == RESPONSE and result.received["client"] == RESPONSE
    assert client.alerts == [b"\x01\x00"] and server.alerts == [b"\x01\x00"]  # close_notify
    for direction in ("c2s", "s2c"):
        seqs = [d.seq for _, d in opened[direction].records]
        # seq restarts at 0 when the application keys take over
        assert seqs[0] == 0 and seqs.count(0) == 2
        for rec, d in opened[direction].records:
            assert d.aad == rec.header and d.explicit_nonce == b""
    return opened


def test_openssl_tls13_default_suite(pki):
    client_ctx, server_ctx = make_contexts(pki)
    result = run_tls_pair(client_ctx, server_ctx, exchanges=[("client", REQUEST), ("server", RESPONSE)])
    assert result.version == "TLSv1.3"
    opened = check_tls13_session(result, 0x1302)  # OpenSSL 3.0 prefers AES-256-GCM
    # The CertificateVerify and Certificate OpenSSL sent are the leaf we made.
    cert_msg = dict(opened["s2c"].handshake)[11]
    leaf_der = x509.load_pem_x509_certificate(pki.chain_pem).public_bytes(serialization.Encoding.DER)
    assert leaf_der in cert_msg


@pytest.mark.parametrize("suite_name, code", [
    ("TLS_AES_128_GCM_SHA256", 0x1301),
    ("TLS_AES_256_GCM_SHA384", 0x1302),
    ("TLS_CHACHA20_POLY1305_SHA256", 0x1303),
])
def test_openssl_tls13_each_suite(pki, suite_name, code):
    client_ctx, server_ctx = make_contexts(pki, tls13_suites=suite_name)
    result = run_tls_pair(client_ctx, server_ctx, exchanges=[("client", REQUEST), ("server", RESPONSE)])
    check_tls13_session(result, code)


def test_openssl_tls13_padding_is_stripped(pki):
    # Python cannot ask OpenSSL to pad records, so: OpenSSL's records carry no padding
    # by default, and a record sealed here with padding opens with the padding counted.
    client_ctx, server_ctx = make_contexts(pki, tls13_suites="TLS_AES_128_GCM_SHA256")
    result = run_tls_pair(client_ctx, server_ctx, exchanges=[("client", REQUEST)])
    _, opened = open_tls13(result)
    assert all(d.padding == 0 for _, d in opened["c2s"].records)
    # Re-seal the request with 7 bytes of zero padding under the same key and seq,
    # using cryptography directly (an independent encryptor), and open it.
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    secrets = KeyLog.parse(result.keylog).secrets_for(
        hello_random_and_suite(split_records("c2s", result.stream("c2s"))[0])[0])
    suite = SUITES[0x1301]
    keys = tls13_traffic_keys(suite, secrets["CLIENT_TRAFFIC_SECRET_0"])
    inner = REQUEST + b"\x17" + b"\x00" * 7
    header = b"\x17\x03\x03" + (len(inner) + 16).to_bytes(2, "big")
    sealed = AESGCM(keys.key).encrypt(keys.iv, inner, header)  # seq 0: nonce = iv
    d = RecordDecryptor(suite, keys).decrypt(header, sealed)
    assert (d.content_type, d.plaintext, d.padding) == (23, REQUEST, 7)


def test_openssl_tls13_key_update(pki):
    client_ctx, server_ctx = make_contexts(pki, tls13_suites="TLS_AES_128_GCM_SHA256")
    result = run_tls_pair(client_ctx, server_ctx, exchanges=[
        ("client", REQUEST), ("client", key_update), ("client", b"after update"),
        ("server", RESPONSE)])
    _, opened = open_tls13(result)
    assert [t for t, _ in opened["c2s"].handshake] == [20, 24]
    assert opened["c2s"].app_data == REQUEST + b"after update"
    assert result.received["server"] == REQUEST + b"after update"


def test_set_groups_forces_hello_retry_request(pki):
    client_ctx, server_ctx = make_contexts(pki)
    set_groups(client_ctx, "X25519:P-256")  # key share for X25519 only
    set_groups(server_ctx, "P-256")  # server insists on P-256
    result = run_tls_pair(client_ctx, server_ctx, exchanges=[("client", REQUEST), ("server", RESPONSE)])
    s2c = split_records("s2c", result.stream("s2c"))
    assert hello_random_and_suite(s2c[0])[0] == HRR_RANDOM
    check_tls13_session(result, 0x1302)


def test_openssl_ext_rejects_bad_strings(pki):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with pytest.raises(ValueError):
        set_tls13_ciphersuites(ctx, "TLS_NO_SUCH_SUITE")
    with pytest.raises(ValueError):
        set_groups(ctx, "NoSuchGroup")
    with pytest.raises(TypeError):
        set_groups(object(), "P-256")  # type: ignore[arg-type]


def open_tls12(result) -> tuple[int, dict[str, Opened]]:
    c2s = split_records("c2s", result.stream("c2s"))
    s2c = split_records("s2c", result.stream("s2c"))
    client_random, _ = hello_random_and_suite(c2s[0])
    server_random, code = hello_random_and_suite(s2c[0])
    suite = SUITES[code]
    master = KeyLog.parse(result.keylog).secrets_for(client_random)["CLIENT_RANDOM"]
    client_keys, server_keys = tls12_key_block(suite, master, client_random, server_random)
    out = {}
    for direction, recs, keys in (("c2s", c2s, client_keys), ("s2c", s2c, server_keys)):
        opened, dec = Opened(), None
        for rec in recs:
            if dec is None:
                if rec.type == 20:  # ChangeCipherSpec: protection starts after it
                    dec = RecordDecryptor(suite, keys)
                continue
            d = dec.decrypt(rec.header, rec.fragment)
            opened.records.append((rec, d))
            if d.content_type == 22:
                opened.handshake += split_handshake(d.plaintext)
            elif d.content_type == 23:
                opened.app_data += d.plaintext
            elif d.content_type == 21:
                opened.alerts.append(d.plaintext)
        out[direction] = opened
    return code, out


@pytest.mark.parametrize("openssl_name, code", [
    ("ECDHE-ECDSA-AES128-GCM-SHA256", 0xC02B),
    ("ECDHE-ECDSA-AES256-GCM-SHA384", 0xC02C),
    ("ECDHE-ECDSA-CHACHA20-POLY1305", 0xCCA9),
])
def test_openssl_tls12(pki, openssl_name, code):
    client_ctx, server_ctx = make_contexts(pki, tls12_ciphers=openssl_name)
    result = run_tls_pair(client_ctx, server_ctx, exchanges=[("client", REQUEST), ("server", RESPONSE)])
    assert result.version == "TLSv1.2" and result.client_cipher[0] == openssl_name
    got, opened = open_tls12(result)
    assert got == code
    client, server = opened["c2s"], opened["s2c"]
    assert [t for t, _ in client.handshake] == [20]
    assert [t for t, _ in server.handshake] == [20]
    assert client.app_data == REQUEST and server.app_data == RESPONSE
    assert client.alerts == [b"\x01\x00"] and server.alerts == [b"\x01\x00"]
    suite = SUITES[code]
    for direction in ("c2s", "s2c"):
        for i, (rec, d) in enumerate(opened[direction].records):
            assert d.seq == i
            assert len(d.explicit_nonce) == suite.explicit_nonce_len
            assert d.aad == i.to_bytes(8, "big") + rec.header[:3] + len(d.plaintext).to_bytes(2, "big")


def test_openssl_tls12_tampered_record(pki):
    client_ctx, server_ctx = make_contexts(pki, tls12_ciphers="ECDHE-ECDSA-AES128-GCM-SHA256")
    result = run_tls_pair(client_ctx, server_ctx, exchanges=[("client", REQUEST)])
    c2s = split_records("c2s", result.stream("c2s"))
    client_random, _ = hello_random_and_suite(c2s[0])
    server_random, code = hello_random_and_suite(split_records("s2c", result.stream("s2c"))[0])
    master = KeyLog.parse(result.keylog).secrets_for(client_random)["CLIENT_RANDOM"]
    keys, _ = tls12_key_block(SUITES[code], master, client_random, server_random)
    dec = RecordDecryptor(SUITES[code], keys)
    finished = c2s[[r.type for r in c2s].index(20) + 1]
    bad = bytearray(finished.fragment)
    bad[10] ^= 0x80  # a ciphertext byte
    with pytest.raises(DecryptError) as info:
        dec.decrypt(finished.header, bytes(bad))
    assert info.value.rfc == "RFC 5288 §3" and dec.seq == 0
    assert dec.decrypt(finished.header, finished.fragment).plaintext[0] == 20


# --- cost ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [0x1301, 0x1303, 0xC02B])
def test_decrypt_is_repeatable_with_a_reset_sequence(code):
    """Per-record cost of opening a 1 KiB record (reported, loosely bounded)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

    suite = SUITES[code]
    keys = TrafficKeys(os.urandom(suite.key_len), os.urandom(suite.iv_len))
    aead = (ChaCha20Poly1305 if suite.aead.startswith("CHACHA") else AESGCM)(keys.key)
    payload = os.urandom(1024)
    if suite.tls13:
        inner = payload + b"\x17"
        header = b"\x17\x03\x03" + (len(inner) + 16).to_bytes(2, "big")
        fragment = aead.encrypt(keys.iv, inner, header)
    else:
        explicit = os.urandom(8)
        header = b"\x17\x03\x03" + (8 + len(payload) + 16).to_bytes(2, "big")
        aad = bytes(8) + header[:3] + len(payload).to_bytes(2, "big")
        fragment = explicit + aead.encrypt(keys.iv + explicit, payload, aad)
    dec = RecordDecryptor(suite, keys)

    def one():
        dec.seq = 0
        return dec.decrypt(header, fragment)

    assert one().plaintext == payload
    assert one().plaintext == payload  # the sequence number was reset: same nonce, same result
