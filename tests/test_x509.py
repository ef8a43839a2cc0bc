"""wssviz.dissect.x509: certificate fields with DER spans, chain checks, TLS signatures."""

from __future__ import annotations

import datetime as dt
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from wssviz.core.tls_records import TLSFormatError
from wssviz.dissect.x509 import (certificate_fields, check_chain, tls13_certificate_verify_content,
                                 verify_signature)

T0 = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.timezone.utc)
AT = dt.datetime(2026, 11, 26, 8, 55, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(days=1)


def name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "wssviz tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_cert(subject: str, key, issuer_name: x509.Name | None = None, issuer_key=None, *,
              ca: bool = False, sans: tuple[str, ...] = (), start=T0, days: int = 365,
              basic_constraints: bool = True, eku=ExtendedKeyUsageOID.SERVER_AUTH):
    b = (x509.CertificateBuilder().subject_name(name(subject))
         .issuer_name(issuer_name or name(subject)).public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(start).not_valid_after(start + days * DAY))
    if basic_constraints:
        b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    b = b.add_extension(x509.KeyUsage(not ca, False, False, False, False, ca, ca, False, False),
                        critical=True)
    if not ca and eku is not None:
        b = b.add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
    if sans:
        gns = []
        for s in sans:
            try:
                gns.append(x509.IPAddress(ipaddress.ip_address(s)))
            except ValueError:
                gns.append(x509.DNSName(s))
        b = b.add_extension(x509.SubjectAlternativeName(gns), critical=False)
    signer = issuer_key or key
    algo = None if isinstance(signer, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return b.sign(signer, algo)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def pki():
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = make_cert("wssviz Demo CA", ca_key, ca=True, days=3650)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = make_cert("server.example.com", leaf_key, ca.subject, ca_key,
                     sans=("server.example.com", "127.0.0.1"))
    return {"ca": ca, "ca_key": ca_key, "leaf": leaf, "leaf_key": leaf_key}


def by_name(checks, name_):
    found = [c for c in checks if c.name == name_]
    assert found, [c.name for c in checks]
    return found


def field(fields, name_):
    return next(f for f in fields if f.name == name_)


# --- fields -----------------------------------------------------------------------------


def test_certificate_fields_values_and_spans(pki):
    leaf = pki["leaf"]
    data = der(leaf)
    base = 17
    buf = bytes(base) + data
    fields = certificate_fields(data, base=base)
    assert [f.name for f in fields] == [
        "subject", "issuer", "serial number", "not before", "not after", "subject alt names",
        "public key", "signature algorithm", "basic constraints", "key usage",
        "extended key usage", "SHA-256 fingerprint"]
    subject = field(fields, "subject")
    assert subject.value == "CN=server.example.com,O=wssviz tests"
    assert buf[subject.start:subject.end] == leaf.subject.public_bytes()
    issuer = field(fields, "issuer")
    assert buf[issuer.start:issuer.end] == leaf.issuer.public_bytes()
    serial = field(fields, "serial number")
    assert int.from_bytes(buf[serial.start:serial.end], "big") == leaf.serial_number
    assert serial.value == f"0x{leaf.serial_number:x}"
    nb = field(fields, "not before")
    assert nb.value == "2026-11-25 08:00:00 UTC" and buf[nb.start:nb.end] == b"261125080000Z"
    assert field(fields, "not after").value == "2027-11-25 08:00:00 UTC"
    sans = field(fields, "subject alt names")
    assert sans.value == "DNS: server.example.com, IP: 127.0.0.1"
    dns, ip = sans.children
    assert buf[dns.start:dns.end] == b"server.example.com" and dns.value == "server.example.com"
    assert buf[ip.start:ip.end] == bytes([127, 0, 0, 1]) and ip.name == "IP: 127.0.0.1"
    key = field(fields, "public key")
    assert key.value == "EC P-256 (secp256r1)"
    assert buf[key.start:key.end] == leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert field(fields, "signature algorithm").value == "ECDSA with SHA-256"
    assert field(fields, "basic constraints").value == "not a CA (critical)"
    assert field(fields, "key usage").value == "digitalSignature (critical)"
    assert field(fields, "extended key usage").value == "serverAuth"
    fp = field(fields, "SHA-256 fingerprint")
    assert fp.of == "none"
    assert fp.value.replace(":", "").lower() == leaf.fingerprint(hashes.SHA256()).hex()
    for f in fields:
        if f.of == "data":
            assert base <= f.start <= f.end <= base + len(data)


def test_rsa_ca_fields():
    key = rsa.generate_private_key(65537, 2048)
    ca = make_cert("RSA CA", key, ca=True)
    fields = certificate_fields(der(ca))
    assert field(fields, "public key").value == "RSA 2048 bits"
    assert field(fields, "signature algorithm").value == "RSA PKCS#1 v1.5 with SHA-256"
    assert field(fields, "basic constraints").value == "CA (critical)"
    assert field(fields, "key usage").value == "keyCertSign, cRLSign (critical)"


def test_invalid_der_names_the_layer():
    with pytest.raises(TLSFormatError) as err:
        certificate_fields(b"\x30\x03\x02\x01\x05", base=9)
    assert err.value.layer == "x509" and err.value.offset == 9 and "RFC 5280" in str(err.value)


# --- chain checks --------------------------------------------------------------------------


def test_good_chain(pki):
    checks = check_chain([der(pki["leaf"]), der(pki["ca"])], [pem(pki["ca"])],
                         "server.example.com", AT)
    assert all(c.ok for c in checks), checks
    assert by_name(checks, "chain")[0].detail == \
        "server.example.com → wssviz Demo CA (trusted anchor)"
    sig = by_name(checks, "signature")[0]
    assert sig.detail == ("leaf server.example.com signed by wssviz Demo CA (ECDSA with "
                          "SHA-256): signature valid")
    assert by_name(checks, "host name")[0].detail == \
        "server.example.com matches SAN DNS:server.example.com"
    validity = by_name(checks, "validity")
    assert validity[0].detail == ("server.example.com: valid 2026-11-25 → 2027-11-25; "
                                  "checked at 2026-11-26 08:55:00 UTC")
    assert len(validity) == 2  # leaf and anchor
    assert by_name(checks, "CA")[0].ok
    assert by_name(checks, "key usage")[0].detail == "leaf allows digitalSignature and serverAuth"


def test_wrong_host_and_ip_hosts(pki):
    chain, trust = [der(pki["leaf"])], [pem(pki["ca"])]
    host = by_name(check_chain(chain, trust, "evil.example.com", AT), "host name")[0]
    assert not host.ok
    assert host.detail == "evil.example.com matches none of DNS:server.example.com"
    assert by_name(check_chain(chain, trust, "127.0.0.1", AT), "host name")[0].ok
    ip = by_name(check_chain(chain, trust, "127.0.0.2", AT), "host name")[0]
    assert not ip.ok and "IP:127.0.0.1" in ip.detail


def test_validity_is_judged_at_the_given_moment(pki):
    chain, trust = [der(pki["leaf"])], [pem(pki["ca"])]
    later = T0 + 400 * DAY
    expired = by_name(check_chain(chain, trust, "server.example.com", later), "validity")[0]
    assert not expired.ok and "expired 2027-11-25 08:00:00 UTC" in expired.detail
    early = by_name(check_chain(chain, trust, "server.example.com", T0 - DAY), "validity")[0]
    assert not early.ok and "not yet valid" in early.detail
    naive = by_name(check_chain(chain, trust, "server.example.com",
                                AT.replace(tzinfo=None)), "validity")[0]
    assert naive.ok  # a naive moment is taken as UTC


def test_untrusted_ca(pki):
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = make_cert("Someone Else CA", other_key, ca=True)
    checks = check_chain([der(pki["leaf"]), der(pki["ca"])], [pem(other)],
                         "server.example.com", AT)
    chain = by_name(checks, "chain")[0]
    assert not chain.ok
    assert "issuer wssviz Demo CA is not among the 1 trusted certificate(s)" in chain.detail


def test_forged_signature_is_caught(pki):
    # Same names as the real CA, different key: the name chain holds, the signature does not.
    fake_key = ec.generate_private_key(ec.SECP256R1())
    forged = make_cert("server.example.com", fake_key, pki["ca"].subject, fake_key,
                       sans=("server.example.com",))
    checks = check_chain([der(forged)], [pem(pki["ca"])], "server.example.com", AT)
    sig = by_name(checks, "signature")[0]
    assert not sig.ok and sig.detail.endswith("signature INVALID")


def test_wildcards(pki):
    leaf = make_cert("wild", ec.generate_private_key(ec.SECP256R1()), pki["ca"].subject,
                     pki["ca_key"], sans=("*.example.com", "*.com"))
    chain, trust = [der(leaf)], [pem(pki["ca"])]

    def host_ok(h):
        return by_name(check_chain(chain, trust, h, AT), "host name")[0]

    assert host_ok("a.example.com").ok
    assert host_ok("A.Example.COM.").ok
    assert host_ok("a.example.com").detail == "a.example.com matches wildcard SAN DNS:*.example.com"
    assert not host_ok("a.b.example.com").ok  # one label only
    assert not host_ok("example.com").ok  # not the bare domain
    assert not host_ok("foo.com").ok  # "*.com" is too broad to count


def test_intermediate_and_ca_constraints(pki):
    mid_key = ec.generate_private_key(ec.SECP256R1())
    mid = make_cert("wssviz Intermediate", mid_key, pki["ca"].subject, pki["ca_key"], ca=True)
    leaf = make_cert("server.example.com", ec.generate_private_key(ec.SECP256R1()), mid.subject,
                     mid_key, sans=("server.example.com",))
    checks = check_chain([der(leaf), der(mid)], [pem(pki["ca"])], "server.example.com", AT)
    assert all(c.ok for c in checks), checks
    assert by_name(checks, "chain")[0].detail == \
        "server.example.com → wssviz Intermediate → wssviz Demo CA (trusted anchor)"
    assert len(by_name(checks, "signature")) == 2
    # An "intermediate" that is not a CA must not sign.
    bad_key = ec.generate_private_key(ec.SECP256R1())
    bad_mid = make_cert("Not A CA", bad_key, pki["ca"].subject, pki["ca_key"],
                        basic_constraints=False, eku=None)
    leaf2 = make_cert("server.example.com", ec.generate_private_key(ec.SECP256R1()),
                      bad_mid.subject, bad_key, sans=("server.example.com",))
    checks = check_chain([der(leaf2), der(bad_mid)], [pem(pki["ca"])], "server.example.com", AT)
    ca_checks = by_name(checks, "CA")
    assert not ca_checks[0].ok and "is not a CA" in ca_checks[0].detail


def test_leaf_usage_problems(pki):
    client_cert = make_cert("server.example.com", ec.generate_private_key(ec.SECP256R1()),
                            pki["ca"].subject, pki["ca_key"], sans=("server.example.com",),
                            eku=ExtendedKeyUsageOID.CLIENT_AUTH)
    usage = by_name(check_chain([der(client_cert)], [pem(pki["ca"])], "server.example.com", AT),
                    "key usage")[0]
    assert not usage.ok and "serverAuth" in usage.detail


def test_no_certificate_and_garbage():
    assert not check_chain([], [], "x", AT)[0].ok
    bad = check_chain([b"\x30\x00"], [], "x", AT)[0]
    assert not bad.ok and "x509" in bad.detail


# --- TLS signatures ---------------------------------------------------------------------------


def test_verify_signature_schemes():
    content = tls13_certificate_verify_content(bytes(range(32)))
    ec_key = ec.generate_private_key(ec.SECP256R1())
    rsa_key = rsa.generate_private_key(65537, 2048)
    ed_key = ed25519.Ed25519PrivateKey.generate()
    ec_cert = der(make_cert("ec", ec_key))
    rsa_cert = der(make_cert("rsa", rsa_key))
    ed_cert = der(make_cert("ed", ed_key))
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    cases = [
        (ec_cert, 0x0403, ec_key.sign(content, ec.ECDSA(hashes.SHA256()))),
        (rsa_cert, 0x0804, rsa_key.sign(content, pss, hashes.SHA256())),
        (rsa_cert, 0x0401, rsa_key.sign(content, padding.PKCS1v15(), hashes.SHA256())),
        (ed_cert, 0x0807, ed_key.sign(content)),
    ]
    for cert, scheme, sig in cases:
        good = verify_signature(cert, scheme, sig, content)
        assert good.ok, good.detail
        assert good.detail.endswith("signature valid")
        flipped = bytearray(sig)
        flipped[len(flipped) // 2] ^= 1
        bad = verify_signature(cert, scheme, bytes(flipped), content)
        assert not bad.ok and bad.name == "signature"
    wrong_key = verify_signature(ec_cert, 0x0804, cases[1][2], content)
    assert not wrong_key.ok and "EC P-256" in wrong_key.detail
    unknown = verify_signature(ec_cert, 0xFEFE, b"x", content)
    assert not unknown.ok and "not supported" in unknown.detail
    assert verify_signature(ec_cert, 0x0403, cases[0][2], content).detail == \
        "signature by ec (ecdsa_secp256r1_sha256): signature valid"


def test_tls13_certificate_verify_content():
    h = bytes(range(48))
    server = tls13_certificate_verify_content(h)
    assert server == b" " * 64 + b"TLS 1.3, server CertificateVerify\x00" + h
    assert tls13_certificate_verify_content(h, server=False)[64:97] == \
        b"TLS 1.3, client CertificateVerify"
