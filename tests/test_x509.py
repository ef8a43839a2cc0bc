"""wssviz.dissect.x509: certificate fields with DER spans, chain checks, TLS signatures."""

from __future__ import annotations

import datetime as dt
import ipaddress

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from wssviz import explain
from wssviz.core.tls_records import TLSFormatError
from wssviz.dissect.x509 import (certificate_fields, check_chain, tls13_certificate_verify_content,
                                 verify_signature)
from wssviz.steps import Msg

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


def field(fields, id_):
    return next(f for f in fields if f.id == id_)


def said(check) -> str:
    """A check's detail as a learner reads it (English)."""
    return explain.text(check.detail, "en")


def shown(f) -> str:
    """A field's value as a learner reads it (English)."""
    return explain.value(f, "en")


# --- fields -----------------------------------------------------------------------------


def test_certificate_fields_values_and_spans(pki):
    leaf = pki["leaf"]
    data = der(leaf)
    base = 17
    buf = bytes(base) + data
    fields = [f for f in certificate_fields(data, base=base) if not f.id.startswith("x509.der.")]
    assert [f.id for f in fields] == [
        "x509.subject", "x509.issuer", "x509.serial", "x509.not_before", "x509.not_after", "x509.san",
        "x509.public_key", "x509.signature_algorithm", "x509.basic_constraints", "x509.key_usage",
        "x509.extended_key_usage", "x509.signature", "x509.fingerprint"]
    # what a learner reads beside each value
    assert [explain.label(f, "en") for f in fields] == [
        "subject", "issuer", "serial number", "not before", "not after", "subject alt names",
        "public key", "signature algorithm", "basic constraints", "key usage",
        "extended key usage", "signature value", "SHA-256 fingerprint"]
    subject = field(fields, "x509.subject")
    assert subject.raw == "CN=server.example.com,O=wssviz tests"
    assert buf[subject.start:subject.end] == leaf.subject.public_bytes()
    issuer = field(fields, "x509.issuer")
    assert issuer.raw == "CN=wssviz Demo CA,O=wssviz tests"
    assert buf[issuer.start:issuer.end] == leaf.issuer.public_bytes()
    serial = field(fields, "x509.serial")
    assert int.from_bytes(buf[serial.start:serial.end], "big") == leaf.serial_number == serial.raw
    assert shown(serial) == f"0x{leaf.serial_number:x}"
    nb = field(fields, "x509.not_before")
    assert nb.raw == "2026-11-25T08:00:00+00:00" and buf[nb.start:nb.end] == b"261125080000Z"
    assert shown(nb) == "2026-11-25 08:00:00 UTC"
    assert field(fields, "x509.not_after").raw == "2027-11-25T08:00:00+00:00"
    sans = field(fields, "x509.san")
    assert sans.raw == ["server.example.com", "127.0.0.1"]
    dns, ip = [c for c in sans.children if not c.id.startswith("x509.der.")]
    assert (dns.id, ip.id) == ("x509.san.dns", "x509.san.ip")
    assert buf[dns.start:dns.end] == b"server.example.com" and dns.raw == "server.example.com"
    assert buf[ip.start:ip.end] == bytes([127, 0, 0, 1]) and ip.raw == "127.0.0.1"
    assert explain.label(ip, "en") == "IP"
    key = field(fields, "x509.public_key")
    assert shown(key) == "EC P-256 (secp256r1)"
    assert buf[key.start:key.end] == leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    sig_alg = field(fields, "x509.signature_algorithm")
    assert sig_alg.raw == "1.2.840.10045.4.3.2" and shown(sig_alg) == "ecdsa-with-SHA256"  # the ASN.1 name
    bc = field(fields, "x509.basic_constraints")
    assert bc.raw is False and shown(bc) == "not a CA (critical)"
    ku = field(fields, "x509.key_usage")
    assert ku.raw == ["digitalSignature"] and shown(ku) == "digitalSignature (critical)"
    assert field(fields, "x509.extended_key_usage").raw == ["serverAuth"]
    fp = field(fields, "x509.fingerprint")
    assert fp.of == "none"
    assert fp.raw == leaf.fingerprint(hashes.SHA256())
    assert fp.value.replace(":", "").lower() == leaf.fingerprint(hashes.SHA256()).hex()
    for f in fields:
        if f.of == "data":
            assert base <= f.start <= f.end <= base + len(data)


def test_rsa_ca_fields():
    key = rsa.generate_private_key(65537, 2048)
    ca = make_cert("RSA CA", key, ca=True)
    fields = certificate_fields(der(ca))
    assert field(fields, "x509.public_key").value == Msg("value.rsa_bits", n=2048)
    assert shown(field(fields, "x509.public_key")) == "RSA 2048 bits"
    sig_alg = field(fields, "x509.signature_algorithm")
    assert sig_alg.raw == "1.2.840.113549.1.1.11" and shown(sig_alg) == "sha256WithRSAEncryption"
    bc = field(fields, "x509.basic_constraints")
    assert bc.raw is True and shown(bc) == "CA (critical)"
    ku = field(fields, "x509.key_usage")
    assert ku.raw == ["keyCertSign", "cRLSign"] and shown(ku) == "keyCertSign, cRLSign (critical)"


def test_invalid_der_names_the_layer():
    with pytest.raises(TLSFormatError) as err:
        certificate_fields(b"\x30\x03\x02\x01\x05", base=9)
    assert err.value.layer == "x509" and err.value.offset == 9 and "RFC 5280" in str(err.value)
    assert err.value.code == "x509.invalid" and err.value.msg.key == "rule.x509.invalid"


# --- chain checks --------------------------------------------------------------------------


def test_good_chain(pki):
    checks = check_chain([der(pki["leaf"]), der(pki["ca"])], [pem(pki["ca"])],
                         "server.example.com", AT)
    assert all(c.ok for c in checks), checks
    assert [c.name for c in checks] == ["chain", "signature", "ca", "host_name", "validity", "validity",
                                        "key_usage"]
    chain = by_name(checks, "chain")[0]
    assert chain.detail == Msg("check.chain_ok", path="server.example.com → wssviz Demo CA")
    assert said(chain) == "server.example.com → wssviz Demo CA (trusted anchor)"
    sig = by_name(checks, "signature")[0]
    assert sig.detail.key == "check.signed_by" and sig.detail.params["result"] == Msg("check.sig_valid")
    assert said(sig) == ("leaf server.example.com signed by wssviz Demo CA (ecdsa-with-SHA256): "
                         "signature valid")
    host = by_name(checks, "host_name")[0]
    assert host.detail.key == "check.host_ok" and host.detail.params["pattern"] == "server.example.com"
    assert said(host) == "server.example.com matches SAN DNS:server.example.com"
    validity = by_name(checks, "validity")
    assert validity[0].detail == Msg("check.valid", name="server.example.com", span="2026-11-25 → 2027-11-25",
                                     at="2026-11-26 08:55:00 UTC")
    assert said(validity[0]) == ("server.example.com: valid 2026-11-25 → 2027-11-25; "
                                 "checked at 2026-11-26 08:55:00 UTC")
    assert len(validity) == 2  # leaf and anchor
    assert by_name(checks, "ca")[0].ok
    usage = by_name(checks, "key_usage")[0]
    assert usage.detail == Msg("check.usage_ok", items=["digitalSignature", "serverAuth"])
    assert said(usage) == "leaf allows digitalSignature, serverAuth"


def test_wrong_host_and_ip_hosts(pki):
    chain, trust = [der(pki["leaf"])], [pem(pki["ca"])]
    host = by_name(check_chain(chain, trust, "evil.example.com", AT), "host_name")[0]
    assert not host.ok
    assert host.detail == Msg("check.host_mismatch", host="evil.example.com",
                              have=["DNS:server.example.com"])
    assert said(host) == "evil.example.com matches none of DNS:server.example.com"
    ok_ip = by_name(check_chain(chain, trust, "127.0.0.1", AT), "host_name")[0]
    assert ok_ip.ok and ok_ip.detail.key == "check.host_ip_ok"
    ip = by_name(check_chain(chain, trust, "127.0.0.2", AT), "host_name")[0]
    assert not ip.ok and ip.detail.key == "check.host_ip_mismatch"
    assert ip.detail.params["have"] == ["IP:127.0.0.1"]


def test_validity_is_judged_at_the_given_moment(pki):
    chain, trust = [der(pki["leaf"])], [pem(pki["ca"])]
    later = T0 + 400 * DAY
    expired = by_name(check_chain(chain, trust, "server.example.com", later), "validity")[0]
    assert not expired.ok and expired.detail.key == "check.expired"
    assert expired.detail.params["when"] == "2027-11-25 08:00:00 UTC"
    assert "expired 2027-11-25 08:00:00 UTC" in said(expired)
    early = by_name(check_chain(chain, trust, "server.example.com", T0 - DAY), "validity")[0]
    assert not early.ok and early.detail.key == "check.not_yet_valid"
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
    assert chain.detail.key == "check.chain_untrusted"
    assert chain.detail.params["issuer"] == "wssviz Demo CA" and chain.detail.params["n"] == 1
    assert "issuer wssviz Demo CA is not among the 1 trusted certificate" in said(chain)


def test_forged_signature_is_caught(pki):
    # Same names as the real CA, different key: the name chain holds, the signature does not.
    fake_key = ec.generate_private_key(ec.SECP256R1())
    forged = make_cert("server.example.com", fake_key, pki["ca"].subject, fake_key,
                       sans=("server.example.com",))
    checks = check_chain([der(forged)], [pem(pki["ca"])], "server.example.com", AT)
    sig = by_name(checks, "signature")[0]
    assert not sig.ok and sig.detail.params["result"] == Msg("check.sig_invalid")


def test_wildcards(pki):
    leaf = make_cert("wild", ec.generate_private_key(ec.SECP256R1()), pki["ca"].subject,
                     pki["ca_key"], sans=("*.example.com", "*.com"))
    chain, trust = [der(leaf)], [pem(pki["ca"])]

    def host_ok(h):
        return by_name(check_chain(chain, trust, h, AT), "host_name")[0]

    assert host_ok("a.example.com").ok
    assert host_ok("A.Example.COM.").ok
    assert host_ok("a.example.com").detail == Msg("check.host_ok", host="a.example.com",
                                                  pattern="*.example.com", wildcard=True)
    assert said(host_ok("a.example.com")) == "a.example.com matches wildcard SAN DNS:*.example.com"
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
        Msg("check.chain_ok", path="server.example.com → wssviz Intermediate → wssviz Demo CA")
    assert len(by_name(checks, "signature")) == 2
    # An "intermediate" that is not a CA must not sign.
    bad_key = ec.generate_private_key(ec.SECP256R1())
    bad_mid = make_cert("Not A CA", bad_key, pki["ca"].subject, pki["ca_key"],
                        basic_constraints=False, eku=None)
    leaf2 = make_cert("server.example.com", ec.generate_private_key(ec.SECP256R1()),
                      bad_mid.subject, bad_key, sans=("server.example.com",))
    checks = check_chain([der(leaf2), der(bad_mid)], [pem(pki["ca"])], "server.example.com", AT)
    ca_checks = by_name(checks, "ca")
    assert not ca_checks[0].ok and ca_checks[0].detail == Msg("check.ca_not_ca", name="Not A CA")


def test_leaf_usage_problems(pki):
    client_cert = make_cert("server.example.com", ec.generate_private_key(ec.SECP256R1()),
                            pki["ca"].subject, pki["ca_key"], sans=("server.example.com",),
                            eku=ExtendedKeyUsageOID.CLIENT_AUTH)
    usage = by_name(check_chain([der(client_cert)], [pem(pki["ca"])], "server.example.com", AT),
                    "key_usage")[0]
    assert not usage.ok and usage.detail == Msg("check.usage_problems", items=[Msg("check.no_server_auth")])


def test_no_certificate_and_garbage():
    none = check_chain([], [], "x", AT)[0]
    assert not none.ok and none.name == "chain" and none.detail == Msg("check.no_certificate")
    bad = check_chain([b"\x30\x00"], [], "x", AT)[0]
    assert not bad.ok and bad.detail.key == "rule.x509.invalid"


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
        assert good.ok, said(good)
        assert good.detail.params["result"] == Msg("check.sig_valid")
        flipped = bytearray(sig)
        flipped[len(flipped) // 2] ^= 1
        bad = verify_signature(cert, scheme, bytes(flipped), content)
        assert not bad.ok and bad.name == "signature"
    wrong_key = verify_signature(ec_cert, 0x0804, cases[1][2], content)
    assert not wrong_key.ok and wrong_key.detail.params["result"].key == "check.scheme_key_mismatch"
    assert "EC P-256" in said(wrong_key)
    unknown = verify_signature(ec_cert, 0xFEFE, b"x", content)
    assert not unknown.ok and unknown.detail.params["result"] == Msg("check.scheme_unsupported",
                                                                     scheme="0xfefe")
    assert said(verify_signature(ec_cert, 0x0403, cases[0][2], content)) == \
        "signature by ec (ecdsa_secp256r1_sha256): signature valid"


def test_tls13_certificate_verify_content():
    h = bytes(range(48))
    server = tls13_certificate_verify_content(h)
    assert server == b" " * 64 + b"TLS 1.3, server CertificateVerify\x00" + h
    assert tls13_certificate_verify_content(h, server=False)[64:97] == \
        b"TLS 1.3, client CertificateVerify"
