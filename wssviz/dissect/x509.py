"""X.509 certificates: fields with DER spans, and the checks a TLS client makes.

``certificate_fields`` turns one DER certificate into Fields (subject, issuer,
dates, SANs, key, ...) whose spans point at the DER bytes that carry them: a
small DER walker finds the spans, ``cryptography`` gives the values.

``check_chain`` repeats what a client decides about a server's chain, one
``Check`` per decision (each signature link, anchor, CA constraints, host
name, validity of each certificate at a given moment, key usage), so a learner
sees *why* a chain is accepted or refused.  ``verify_signature`` checks a TLS
signature (CertificateVerify, ServerKeyExchange) with a certificate's key.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timezone

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from wssviz.core.tls_records import TLSFormatError
from wssviz.dissect import names
from wssviz.steps import Field, computed

__all__ = ["Check", "certificate_fields", "check_chain", "verify_signature",
           "tls13_certificate_verify_content", "load", "short_name", "issuer_name",
           "public_key_label", "signature_algorithm_label", "format_time"]


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


# --- loading and labels ------------------------------------------------------------


def load(der: bytes, base: int = 0) -> x509.Certificate:
    """Parse DER, or raise TLSFormatError (layer "x509") at ``base``."""
    try:
        return x509.load_der_x509_certificate(bytes(der))
    except (ValueError, TypeError) as exc:
        raise TLSFormatError(f"not a valid X.509 certificate: {exc}", "RFC 5280 §4.1",
                             base, "x509") from None


def format_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _name_label(name: x509.Name) -> str:
    cns = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if cns:
        return str(cns[0].value)
    return name.rfc4514_string() or "(empty name)"


def short_name(der_or_cert: bytes | x509.Certificate) -> str:
    """A certificate's subject common name (or its whole subject)."""
    cert = der_or_cert if isinstance(der_or_cert, x509.Certificate) else load(der_or_cert)
    return _name_label(cert.subject)


def issuer_name(der_or_cert: bytes | x509.Certificate) -> str:
    cert = der_or_cert if isinstance(der_or_cert, x509.Certificate) else load(der_or_cert)
    return _name_label(cert.issuer)


_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


def public_key_label(cert: x509.Certificate) -> str:
    key = cert.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        curve = key.curve.name
        return f"EC {_CURVES[curve]} ({curve})" if curve in _CURVES else f"EC {curve}"
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size} bits"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448"
    return type(key).__name__


_SIG_ALGS = {
    "1.2.840.10045.4.3.2": "ECDSA with SHA-256", "1.2.840.10045.4.3.3": "ECDSA with SHA-384",
    "1.2.840.10045.4.3.4": "ECDSA with SHA-512", "1.2.840.10045.4.1": "ECDSA with SHA-1",
    "1.2.840.113549.1.1.11": "RSA PKCS#1 v1.5 with SHA-256",
    "1.2.840.113549.1.1.12": "RSA PKCS#1 v1.5 with SHA-384",
    "1.2.840.113549.1.1.13": "RSA PKCS#1 v1.5 with SHA-512",
    "1.2.840.113549.1.1.5": "RSA PKCS#1 v1.5 with SHA-1",
    "1.2.840.113549.1.1.10": "RSASSA-PSS", "1.3.101.112": "Ed25519", "1.3.101.113": "Ed448",
}


def signature_algorithm_label(cert: x509.Certificate) -> str:
    oid = cert.signature_algorithm_oid
    return _SIG_ALGS.get(oid.dotted_string, getattr(oid, "_name", oid.dotted_string))


# --- DER spans ----------------------------------------------------------------------


def _tlv(buf: bytes, pos: int, end: int) -> tuple[int, int, int, int]:
    """(tag, start, content_start, content_end) of the DER element at ``pos``."""
    if pos + 2 > end:
        raise ValueError("truncated DER")
    tag, first = buf[pos], buf[pos + 1]
    if first < 0x80:
        hdr, length = 2, first
    else:
        n = first & 0x7F
        if n == 0 or n > 4 or pos + 2 + n > end:
            raise ValueError("bad DER length")
        hdr, length = 2 + n, int.from_bytes(buf[pos + 2:pos + 2 + n], "big")
    if pos + hdr + length > end:
        raise ValueError("DER element runs past its container")
    return tag, pos, pos + hdr, pos + hdr + length


def _children(buf: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    out, pos = [], start
    while pos < end:
        el = _tlv(buf, pos, end)
        out.append(el)
        pos = el[3]
    return out


_EXT_OIDS = {  # DER of the OID content -> our field name
    bytes.fromhex("551d11"): "subject alt names", bytes.fromhex("551d13"): "basic constraints",
    bytes.fromhex("551d0f"): "key usage", bytes.fromhex("551d25"): "extended key usage",
}


def _der_spans(der: bytes) -> dict[str, object]:
    """Spans of the parts of a certificate; {} if the walk fails."""
    try:
        spans: dict[str, object] = {}
        _, _, cs, ce = _tlv(der, 0, len(der))
        tbs, sig_alg, sig_val = _children(der, cs, ce)[:3]
        parts = _children(der, tbs[2], tbs[3])
        i = 1 if parts[0][0] == 0xA0 else 0
        serial, _alg, issuer, validity, subject, spki = parts[i:i + 6]
        spans["serial number"] = (serial[2], serial[3])
        spans["issuer"] = (issuer[1], issuer[3])
        spans["subject"] = (subject[1], subject[3])
        nb, na = _children(der, validity[2], validity[3])[:2]
        spans["not before"] = (nb[2], nb[3])
        spans["not after"] = (na[2], na[3])
        spans["public key"] = (spki[1], spki[3])
        spans["signature algorithm"] = (sig_alg[1], sig_alg[3])
        spans["signature"] = (sig_val[2], sig_val[3])
        for p in parts[i + 6:]:
            if p[0] != 0xA3:
                continue
            (seq,) = _children(der, p[2], p[3])[:1]
            for ext in _children(der, seq[2], seq[3]):
                items = _children(der, ext[2], ext[3])
                name = _EXT_OIDS.get(der[items[0][2]:items[0][3]])
                if name is None:
                    continue
                spans[name] = (ext[1], ext[3])
                if name == "subject alt names":
                    octets = items[-1]
                    (gns,) = _children(der, octets[2], octets[3])[:1]
                    spans["san entries"] = [(g[0], g[2], g[3])
                                            for g in _children(der, gns[2], gns[3])]
        return spans
    except (ValueError, IndexError):
        return {}


# --- fields -------------------------------------------------------------------------


def _san_label(tag: int, raw: bytes) -> str:
    if tag == 0x82:
        return f"DNS: {raw.decode('ascii', 'replace')}"
    if tag == 0x87 and len(raw) in (4, 16):
        return f"IP: {ipaddress.ip_address(raw)}"
    if tag == 0x86:
        return f"URI: {raw.decode('ascii', 'replace')}"
    if tag == 0x81:
        return f"email: {raw.decode('ascii', 'replace')}"
    return f"other name ({len(raw)} bytes)"


def _gn_label(gn: x509.GeneralName) -> str:
    if isinstance(gn, x509.DNSName):
        return f"DNS: {gn.value}"
    if isinstance(gn, x509.IPAddress):
        return f"IP: {gn.value}"
    if isinstance(gn, x509.UniformResourceIdentifier):
        return f"URI: {gn.value}"
    if isinstance(gn, x509.RFC822Name):
        return f"email: {gn.value}"
    return f"other name ({type(gn).__name__})"


def _ext(cert: x509.Certificate, cls: type) -> x509.Extension | None:
    try:
        return cert.extensions.get_extension_for_class(cls)
    except x509.ExtensionNotFound:
        return None
    except ValueError:  # malformed extension
        return None


_KU_NAMES = (("digital_signature", "digitalSignature"), ("content_commitment", "nonRepudiation"),
             ("key_encipherment", "keyEncipherment"), ("data_encipherment", "dataEncipherment"),
             ("key_agreement", "keyAgreement"), ("key_cert_sign", "keyCertSign"),
             ("crl_sign", "cRLSign"))  # RFC 5280 §4.2.1.3


def _key_usage_label(ku: x509.KeyUsage) -> str:
    used = [label for attr, label in _KU_NAMES if getattr(ku, attr)]
    if ku.key_agreement:
        used += [label for attr, label in (("encipher_only", "encipherOnly"),
                                           ("decipher_only", "decipherOnly")) if getattr(ku, attr)]
    return ", ".join(used) or "none"


def certificate_fields(der: bytes, base: int = 0) -> list[Field]:
    """Fields of one DER certificate; spans (``of="data"``) are ``base`` + DER offsets."""
    der = bytes(der)
    cert = load(der, base)
    spans = _der_spans(der)

    def fld(name: str, value: str, children: list[Field] | None = None,
            key: str | None = None) -> Field:
        span = spans.get(key or name)
        if isinstance(span, tuple):
            return Field(name, value, base + span[0], base + span[1], "data", children or [])
        return computed(name, value, children)

    out = [
        fld("subject", cert.subject.rfc4514_string() or "(empty)"),
        fld("issuer", cert.issuer.rfc4514_string() or "(empty)"),
        fld("serial number", f"0x{cert.serial_number:x}"),
        fld("not before", format_time(cert.not_valid_before_utc)),
        fld("not after", format_time(cert.not_valid_after_utc)),
    ]
    san = _ext(cert, x509.SubjectAlternativeName)
    if san is not None:
        entries = spans.get("san entries")
        if isinstance(entries, list):
            kids = [Field(_san_label(tag, der[s:e]), _san_label(tag, der[s:e]).split(": ", 1)[-1],
                          base + s, base + e, "data") for tag, s, e in entries]
        else:
            kids = [computed(_gn_label(g), _gn_label(g).split(": ", 1)[-1]) for g in san.value]
        out.append(fld("subject alt names", ", ".join(k.name for k in kids), kids))
    out.append(fld("public key", public_key_label(cert)))
    out.append(fld("signature algorithm", signature_algorithm_label(cert)))
    bc = _ext(cert, x509.BasicConstraints)
    if bc is not None:
        v = bc.value
        text = ("CA" + (f", path length {v.path_length}" if v.path_length is not None else "")
                if v.ca else "not a CA")
        out.append(fld("basic constraints", text + (" (critical)" if bc.critical else "")))
    ku = _ext(cert, x509.KeyUsage)
    if ku is not None:
        out.append(fld("key usage", _key_usage_label(ku.value)
                       + (" (critical)" if ku.critical else "")))
    eku = _ext(cert, x509.ExtendedKeyUsage)
    if eku is not None:
        out.append(fld("extended key usage", ", ".join(
            getattr(o, "_name", o.dotted_string) for o in eku.value)))
    out.append(computed("SHA-256 fingerprint", ":".join(
        f"{b:02X}" for b in hashlib.sha256(der).digest())))
    return out


# --- host names (RFC 6125 §6.4) -----------------------------------------------------


def _match_dns(pattern: str, host: str) -> bool:
    pattern = pattern.rstrip(".").lower()
    host = host.rstrip(".").lower()
    if "*" not in pattern:
        return pattern == host
    plabels, hlabels = pattern.split("."), host.split(".")
    # Only a whole left-most "*" label, over at least two further labels (no "*.com").
    if plabels[0] != "*" or "*" in ".".join(plabels[1:]) or len(plabels) < 3:
        return False
    return len(hlabels) == len(plabels) and hlabels[0] != "" and hlabels[1:] == plabels[1:]


def _check_host(cert: x509.Certificate, hostname: str) -> Check:
    san = _ext(cert, x509.SubjectAlternativeName)
    try:
        ip = ipaddress.ip_address(hostname)
    except ValueError:
        ip = None
    if san is None:
        return Check("host name", False, f"{hostname}: certificate has no subjectAltName "
                     f"(the subject CN is not used, RFC 6125 §6.4.4)")
    if ip is not None:
        ips = san.value.get_values_for_type(x509.IPAddress)
        if ip in ips:
            return Check("host name", True, f"{hostname} matches SAN IP:{ip}")
        have = ", ".join(f"IP:{a}" for a in ips) or "no IP addresses"
        return Check("host name", False, f"{hostname} is an IP address; SAN lists {have}")
    dns = san.value.get_values_for_type(x509.DNSName)
    for pattern in dns:
        if _match_dns(pattern, hostname):
            how = "wildcard " if "*" in pattern else ""
            return Check("host name", True, f"{hostname} matches {how}SAN DNS:{pattern}")
    have = ", ".join(f"DNS:{d}" for d in dns) or "no DNS names"
    return Check("host name", False, f"{hostname} matches none of {have}")


# --- chain ----------------------------------------------------------------------------


def _load_pem(pem: str) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(pem.encode("ascii", "replace"))
    except ValueError:
        return []


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> tuple[bool, str]:
    try:
        cert.verify_directly_issued_by(issuer)
        return True, "signature valid"
    except InvalidSignature:
        return False, "signature INVALID"
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        return False, f"cannot verify: {exc}"


def check_chain(chain_der: list[bytes], trust_pem: list[str], hostname: str,
                at: datetime) -> list[Check]:
    """What a client concludes about a server's chain, one Check per decision.

    ``at`` is the moment the dates are judged (the session's start, never "now").
    """
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    if not chain_der:
        return [Check("chain", False, "the server sent no certificate")]
    try:
        chain = [load(d) for d in chain_der]
    except TLSFormatError as exc:
        return [Check("chain", False, str(exc))]
    anchors = [c for pem in trust_pem for c in _load_pem(pem)]
    checks: list[Check] = []

    # Build the path: leaf, then each issuer from the chain sent, until an anchor.
    path = [chain[0]]
    anchor: x509.Certificate | None = None
    pool = chain[1:]
    while True:
        cur = path[-1]
        if any(cur == a for a in anchors):
            anchor = cur
            break
        issuer = next((a for a in anchors if a.subject == cur.issuer), None)
        from_anchor = issuer is not None
        if issuer is None:
            issuer = next((c for c in pool if c.subject == cur.issuer and c not in path), None)
        if issuer is None:
            break
        ok, how = _signed_by(cur, issuer)
        role = "leaf" if len(path) == 1 else "intermediate"
        checks.append(Check("signature", ok,
                            f"{role} {_name_label(cur.subject)} signed by "
                            f"{_name_label(issuer.subject)} ({signature_algorithm_label(cur)}): "
                            f"{how}"))
        path.append(issuer)
        if from_anchor:
            anchor = issuer
            break
        if len(path) > 10:
            break
    names_in_path = " → ".join(_name_label(c.subject) for c in path)
    if anchor is not None:
        checks.insert(0, Check("chain", True, f"{names_in_path} (trusted anchor)"))
    else:
        last = path[-1]
        checks.insert(0, Check("chain", False,
                               f"{names_in_path}: issuer {_name_label(last.issuer)} is not among "
                               f"the {len(anchors)} trusted certificate(s)"))

    # Every issuer in the path must be a CA allowed to sign certificates.
    for depth, ca in enumerate(path[1:], 1):
        bc = _ext(ca, x509.BasicConstraints)
        ku = _ext(ca, x509.KeyUsage)
        label = _name_label(ca.subject)
        if bc is None or not bc.value.ca:
            checks.append(Check("CA", False, f"{label} signs certificates but is not a CA "
                                             f"(basicConstraints, RFC 5280 §4.2.1.9)"))
        elif bc.value.path_length is not None and depth - 1 > bc.value.path_length:
            checks.append(Check("CA", False, f"{label}: path length {depth - 1} exceeds its "
                                             f"limit {bc.value.path_length}"))
        elif ku is not None and not ku.value.key_cert_sign:
            checks.append(Check("CA", False, f"{label}: key usage lacks keyCertSign"))
        else:
            checks.append(Check("CA", True, f"{label} is a CA (basicConstraints CA:TRUE"
                                            + (", keyCertSign" if ku is not None else "") + ")"))

    checks.append(_check_host(chain[0], hostname))

    for cert in path:
        nb, na = cert.not_valid_before_utc, cert.not_valid_after_utc
        when = f"checked at {format_time(at)}"
        span = f"{nb:%Y-%m-%d} → {na:%Y-%m-%d}"
        label = _name_label(cert.subject)
        if at < nb:
            checks.append(Check("validity", False, f"{label}: not yet valid ({span}); {when}"))
        elif at > na:
            checks.append(Check("validity", False, f"{label}: expired {format_time(na)} "
                                                   f"({span}); {when}"))
        else:
            checks.append(Check("validity", True, f"{label}: valid {span}; {when}"))

    checks.append(_check_leaf_usage(chain[0]))
    return checks


def _check_leaf_usage(leaf: x509.Certificate) -> Check:
    problems, good = [], []
    ku = _ext(leaf, x509.KeyUsage)
    if ku is not None:
        if ku.value.digital_signature:
            good.append("digitalSignature")
        else:
            problems.append("key usage lacks digitalSignature (needed to sign the handshake)")
    eku = _ext(leaf, x509.ExtendedKeyUsage)
    if eku is not None:
        if ExtendedKeyUsageOID.SERVER_AUTH in eku.value:
            good.append("serverAuth")
        else:
            problems.append("extended key usage lacks serverAuth")
    bc = _ext(leaf, x509.BasicConstraints)
    if bc is not None and bc.value.ca:
        problems.append("the server certificate is itself a CA")
    if problems:
        return Check("key usage", False, "; ".join(problems))
    if not good:
        return Check("key usage", True, "no key usage restrictions")
    return Check("key usage", True, "leaf allows " + " and ".join(good))


# --- TLS signatures -----------------------------------------------------------------

_HASHES = {0x01: hashes.SHA1, 0x04: hashes.SHA256, 0x05: hashes.SHA384, 0x06: hashes.SHA512,
           0x02: hashes.SHA1}
_PSS_HASHES = {0x0804: hashes.SHA256, 0x0805: hashes.SHA384, 0x0806: hashes.SHA512,
               0x0809: hashes.SHA256, 0x080A: hashes.SHA384, 0x080B: hashes.SHA512}


def verify_signature(cert_der: bytes, scheme: int, signature: bytes, content: bytes) -> Check:
    """Verify a TLS ``signature`` (SignatureScheme ``scheme``) over ``content``."""
    scheme_name = names.signature_scheme(scheme)
    try:
        cert = load(cert_der)
    except TLSFormatError as exc:
        return Check("signature", False, str(exc))
    key = cert.public_key()
    who = _name_label(cert.subject)
    head = f"signature by {who} ({scheme_name})"
    try:
        if scheme in (0x0807, 0x0808):
            want = ed25519.Ed25519PublicKey if scheme == 0x0807 else ed448.Ed448PublicKey
            if not isinstance(key, want):
                raise _KeyMismatch
            key.verify(signature, content)
        elif scheme in _PSS_HASHES:
            if not isinstance(key, rsa.RSAPublicKey):
                raise _KeyMismatch
            h = _PSS_HASHES[scheme]()
            key.verify(signature, content,
                       padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
        elif scheme & 0xFF == 0x03 and scheme >> 8 in _HASHES:
            if not isinstance(key, ec.EllipticCurvePublicKey):
                raise _KeyMismatch
            key.verify(signature, content, ec.ECDSA(_HASHES[scheme >> 8]()))
        elif scheme & 0xFF == 0x01 and scheme >> 8 in _HASHES:
            if not isinstance(key, rsa.RSAPublicKey):
                raise _KeyMismatch
            key.verify(signature, content, padding.PKCS1v15(), _HASHES[scheme >> 8]())
        else:
            return Check("signature", False, f"{head}: scheme 0x{scheme:04x} not supported here")
    except _KeyMismatch:
        return Check("signature", False,
                     f"{head}: the scheme does not fit the certificate's {public_key_label(cert)} key")
    except InvalidSignature:
        return Check("signature", False, f"{head}: signature INVALID")
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        return Check("signature", False, f"{head}: cannot verify ({exc})")
    return Check("signature", True, f"{head}: signature valid")


class _KeyMismatch(Exception):
    pass


def tls13_certificate_verify_content(transcript_hash: bytes, server: bool = True) -> bytes:
    """What a TLS 1.3 CertificateVerify signs (RFC 8446 §4.4.3)."""
    context = b"TLS 1.3, server CertificateVerify" if server else b"TLS 1.3, client CertificateVerify"
    return b"\x20" * 64 + context + b"\x00" + bytes(transcript_hash)
