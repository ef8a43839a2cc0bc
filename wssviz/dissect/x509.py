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
from wssviz.steps import Field, Msg, computed

__all__ = ["Check", "certificate_fields", "check_chain", "verify_signature",
           "tls13_certificate_verify_content", "load", "short_name", "issuer_name",
           "public_key_label", "signature_algorithm_label", "format_time"]


@dataclass
class Check:
    """One decision of the certificate check: ``name`` is the check's id part
    (``chain``, ``signature``, ``ca``, ``host_name``, ``validity``, ``key_usage``,
    ``proof_of_key``), ``detail`` what was found, for people."""

    name: str
    ok: bool
    detail: Msg


# --- loading and labels ------------------------------------------------------------


# what the library raises for a certificate it cannot read
_BROKEN = (ValueError, TypeError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType,
           x509.InvalidVersion)


def _parsed(cert: x509.Certificate) -> x509.Certificate:
    """The library parses names and extensions on first use: parse them now, so that
    a broken one is an error where the certificate is read, not a crash later.  What
    the library raises for a broken name differs between its versions (a KeyError for
    an unknown string tag in some), so anything it raises here is a ValueError."""
    try:
        cert.subject, cert.issuer, cert.extensions  # noqa: B018
    except _BROKEN:
        raise
    except Exception as exc:  # noqa: BLE001 - the library's own failure, version by version
        raise ValueError(f"unreadable name or extension ({type(exc).__name__}: {exc})") from None
    return cert


def load(der: bytes, base: int = 0) -> x509.Certificate:
    """Parse DER, or raise TLSFormatError (layer "x509") at ``base``."""
    try:
        return _parsed(x509.load_der_x509_certificate(bytes(der)))
    except _BROKEN as exc:
        raise TLSFormatError(f"not a valid X.509 certificate: {exc}", "RFC 5280 §4.1",
                             base, "x509", code="x509.invalid", detail=str(exc)) from None


def format_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _name_label(name: x509.Name) -> str:
    cns = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if cns:
        return str(cns[0].value)
    return name.rfc4514_string() or "—"


def short_name(der_or_cert: bytes | x509.Certificate) -> str:
    """A certificate's subject common name (or its whole subject)."""
    cert = der_or_cert if isinstance(der_or_cert, x509.Certificate) else load(der_or_cert)
    return _name_label(cert.subject)


def issuer_name(der_or_cert: bytes | x509.Certificate) -> str:
    cert = der_or_cert if isinstance(der_or_cert, x509.Certificate) else load(der_or_cert)
    return _name_label(cert.issuer)


_CURVES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


def public_key_label(cert: x509.Certificate) -> str | Msg:
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):  # a key type or curve the library cannot read
        return Msg("value.key_unreadable")
    if isinstance(key, ec.EllipticCurvePublicKey):
        curve = key.curve.name
        return f"EC {_CURVES[curve]} ({curve})" if curve in _CURVES else f"EC {curve}"
    if isinstance(key, rsa.RSAPublicKey):
        return Msg("value.rsa_bits", n=key.key_size)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448"
    return type(key).__name__


# The algorithms' ASN.1 names (RFC 5758, RFC 8017, RFC 8410): protocol names.
_SIG_ALGS = {
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256", "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512", "1.2.840.10045.4.1": "ecdsa-with-SHA1",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
    "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
    "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
    "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
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


_EXT_OIDS = {  # DER of the OID content -> our field id part
    bytes.fromhex("551d11"): "san", bytes.fromhex("551d13"): "basic_constraints",
    bytes.fromhex("551d0f"): "key_usage", bytes.fromhex("551d25"): "extended_key_usage",
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
        spans["serial"] = (serial[2], serial[3])
        spans["issuer"] = (issuer[1], issuer[3])
        spans["subject"] = (subject[1], subject[3])
        nb, na = _children(der, validity[2], validity[3])[:2]
        spans["not_before"] = (nb[2], nb[3])
        spans["not_after"] = (na[2], na[3])
        spans["public_key"] = (spki[1], spki[3])
        spans["signature_algorithm"] = (sig_alg[1], sig_alg[3])
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
                if name == "san":
                    octets = items[-1]
                    (gns,) = _children(der, octets[2], octets[3])[:1]
                    spans["san_entries"] = [(g[0], g[2], g[3])
                                            for g in _children(der, gns[2], gns[3])]
        return spans
    except (ValueError, IndexError):
        return {}


# --- fields -------------------------------------------------------------------------


_SAN_TAGS = {0x82: "dns", 0x87: "ip", 0x86: "uri", 0x81: "email"}


def _san_entry(tag: int, raw: bytes, start: int, end: int) -> Field:
    """One subjectAltName entry from its DER (``x509.san.<type>``, the name as value)."""
    kind = _SAN_TAGS.get(tag, "other")
    if kind == "ip" and len(raw) in (4, 16):
        value: str | Msg = str(ipaddress.ip_address(raw))
    elif kind == "other" or kind == "ip":
        value = Msg("value.bytes", n=len(raw))
    else:
        value = raw.decode("ascii", "replace")
    return Field(f"x509.san.{kind}", value, start, end, "data",
                 raw=value if isinstance(value, str) else None)


def _gn_entry(gn: x509.GeneralName) -> Field:
    kind = {x509.DNSName: "dns", x509.IPAddress: "ip", x509.UniformResourceIdentifier: "uri",
            x509.RFC822Name: "email"}.get(type(gn), "other")
    value: str | Msg = str(gn.value) if kind != "other" else Msg("value.other_name", kind=type(gn).__name__)
    return computed(f"x509.san.{kind}", value, raw=str(gn.value) if kind != "other" else None)


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


def _key_usages(ku: x509.KeyUsage) -> list[str]:
    used = [label for attr, label in _KU_NAMES if getattr(ku, attr)]
    if ku.key_agreement:
        used += [label for attr, label in (("encipher_only", "encipherOnly"),
                                           ("decipher_only", "decipherOnly")) if getattr(ku, attr)]
    return used


def certificate_fields(der: bytes, base: int = 0) -> list[Field]:
    """Fields of one DER certificate; spans (``of="data"``) are ``base`` + DER offsets."""
    der = bytes(der)
    cert = load(der, base)
    spans = _der_spans(der)

    def fld(part: str, value: str | Msg, children: list[Field] | None = None, *, raw: object = None) -> Field:
        span = spans.get(part)
        if isinstance(span, tuple):
            return Field(f"x509.{part}", value, base + span[0], base + span[1], "data", children or [],
                         raw=raw)
        return computed(f"x509.{part}", value, children, raw=raw)

    subject, issuer = cert.subject.rfc4514_string(), cert.issuer.rfc4514_string()
    out = [
        fld("subject", subject or Msg("value.empty"), raw=subject),
        fld("issuer", issuer or Msg("value.empty"), raw=issuer),
        fld("serial", f"0x{cert.serial_number:x}", raw=cert.serial_number),
        fld("not_before", format_time(cert.not_valid_before_utc),
            raw=cert.not_valid_before_utc.isoformat()),
        fld("not_after", format_time(cert.not_valid_after_utc), raw=cert.not_valid_after_utc.isoformat()),
    ]
    san = _ext(cert, x509.SubjectAlternativeName)
    if san is not None:
        entries = spans.get("san_entries")
        if isinstance(entries, list):
            kids = [_san_entry(tag, der[s:e], base + s, base + e) for tag, s, e in entries]
        else:
            kids = [_gn_entry(g) for g in san.value]
        out.append(fld("san", Msg("value.list", items=[k.value for k in kids]), kids,
                       raw=[k.raw for k in kids]))
    out.append(fld("public_key", public_key_label(cert)))
    out.append(fld("signature_algorithm", signature_algorithm_label(cert),
                   raw=cert.signature_algorithm_oid.dotted_string))
    bc = _ext(cert, x509.BasicConstraints)
    if bc is not None:
        v = bc.value
        text = (Msg("value.bc_ca", path=v.path_length, critical=bc.critical or None) if v.ca
                else Msg("value.bc_not_ca", critical=bc.critical or None))
        out.append(fld("basic_constraints", text, raw=v.ca))
    ku = _ext(cert, x509.KeyUsage)
    if ku is not None:
        used = _key_usages(ku.value)
        out.append(fld("key_usage", Msg("value.usages", items=used or [Msg("value.none")],
                                        critical=ku.critical or None), raw=used))
    eku = _ext(cert, x509.ExtendedKeyUsage)
    if eku is not None:
        usages = [getattr(o, "_name", o.dotted_string) for o in eku.value]
        out.append(fld("extended_key_usage", Msg("value.list", items=usages), raw=usages))
    if isinstance(spans.get("signature"), tuple):
        out.append(fld("signature", Msg("value.bytes", n=spans["signature"][1] - spans["signature"][0]),
                       raw=der[spans["signature"][0]:spans["signature"][1]]))
    digest = hashlib.sha256(der).digest()
    out.append(computed("x509.fingerprint", ":".join(f"{b:02X}" for b in digest), raw=digest))
    _label_der(out, der, base)
    return out


# --- every byte of the DER ------------------------------------------------------------

_DER_TYPES = {0x01: "boolean", 0x02: "integer", 0x03: "bit_string", 0x04: "octet_string", 0x05: "null",
              0x06: "oid", 0x0C: "string", 0x13: "string", 0x14: "string", 0x16: "string", 0x1E: "string",
              0x17: "time", 0x18: "time"}
_DER_TAG_NAMES = {0x30: "SEQUENCE", 0x31: "SET", 0x01: "BOOLEAN", 0x02: "INTEGER", 0x03: "BIT STRING",
                  0x04: "OCTET STRING", 0x05: "NULL", 0x06: "OBJECT IDENTIFIER", 0x0C: "UTF8String",
                  0x13: "PrintableString", 0x14: "TeletexString", 0x16: "IA5String", 0x1E: "BMPString",
                  0x17: "UTCTime", 0x18: "GeneralizedTime"}
#: Object identifiers a certificate commonly holds, by name (RFC 5280, RFC 5480, RFC 5758).
_OID_NAMES = {
    "2.5.4.3": "commonName", "2.5.4.6": "countryName", "2.5.4.7": "localityName",
    "2.5.4.8": "stateOrProvinceName", "2.5.4.10": "organizationName", "2.5.4.11": "organizationalUnitName",
    "2.5.29.14": "subjectKeyIdentifier", "2.5.29.15": "keyUsage", "2.5.29.17": "subjectAltName",
    "2.5.29.19": "basicConstraints", "2.5.29.35": "authorityKeyIdentifier", "2.5.29.37": "extKeyUsage",
    "2.5.29.31": "cRLDistributionPoints", "2.5.29.32": "certificatePolicies",
    "1.3.6.1.5.5.7.1.1": "authorityInfoAccess", "1.3.6.1.5.5.7.3.1": "serverAuth",
    "1.3.6.1.5.5.7.3.2": "clientAuth", "1.2.840.10045.2.1": "id-ecPublicKey",
    "1.2.840.10045.3.1.7": "secp256r1", "1.3.132.0.34": "secp384r1", "1.3.132.0.35": "secp521r1",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256", "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512", "1.2.840.113549.1.1.1": "rsaEncryption",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption", "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
    "1.2.840.113549.1.1.10": "RSASSA-PSS", "1.3.101.112": "Ed25519", "1.3.101.113": "Ed448",
}


def _oid(content: bytes) -> str:
    """The dotted form of an OBJECT IDENTIFIER's content octets (X.690 §8.19)."""
    if not content:
        return ""
    parts, n = [], 0
    for b in content:
        n = (n << 7) | (b & 0x7F)
        if not b & 0x80:
            parts.append(n)
            n = 0
    first = parts[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(p) for p in head + parts[1:])


def _der_leaves(der: bytes, start: int, end: int, base: int, depth: int = 0) -> list[Field]:
    """A leaf for every DER header (tag and length) and every primitive value in
    ``der[start:end]``, read as X.690 lays them out."""
    out: list[Field] = []
    for tag, s, cs, ce in _children(der, start, end):
        name = _DER_TAG_NAMES.get(tag, f"[{tag & 0x1F}]" if tag & 0xC0 == 0x80 else f"0x{tag:02x}")
        out.append(Field("x509.der.header", Msg("value.der_header", tag=name, n=ce - cs), base + s, base + cs,
                         "data", raw=tag))
        constructed = bool(tag & 0x20)
        if constructed or tag in (0x04, 0x03) and depth < 8 and _nested(der, cs, ce, tag):
            inner = cs + 1 if tag == 0x03 else cs
            if tag == 0x03:  # BIT STRING wrapping DER (a public key is not DER; tried below)
                out.append(Field("x509.der.unused_bits", str(der[cs]), base + cs, base + cs + 1, "data",
                                 raw=der[cs]))
            out += _der_leaves(der, inner, ce, base, depth + 1)
            continue
        if ce == cs:
            continue
        content = der[cs:ce]
        kind = _DER_TYPES.get(tag, "value")
        if kind == "oid":
            dotted = _oid(content)
            value: str | Msg = f"{_OID_NAMES[dotted]} ({dotted})" if dotted in _OID_NAMES else dotted
            raw: object = dotted
        elif kind in ("string", "time"):
            value = raw = content.decode("utf-16-be" if tag == 0x1E else "latin-1", "replace")
        elif kind == "boolean":
            raw = content != b"\x00"
            value = Msg("word.yes" if raw else "word.no")
        else:
            value, raw = (content.hex() if len(content) <= 32 else Msg("value.hex_cut", hex=content[:32].hex(),
                                                                       n=len(content))), content
        out.append(Field(f"x509.der.{kind}", value, base + cs, base + ce, "data", raw=raw))
    return out


def _nested(der: bytes, start: int, end: int, tag: int) -> bool:
    """Whether an OCTET or BIT STRING holds DER (an extension's value does; a key or a
    signature's bits are not DER)."""
    inner = start + 1 if tag == 0x03 else start
    if tag == 0x03 and (start >= end or der[start] != 0):
        return False
    try:
        kids = _children(der, inner, end)
    except ValueError:
        return False
    return bool(kids) and all(k[0] in (0x30, 0x31, 0x04, 0x02, 0x01, 0x03, 0x06, 0x80, 0x81, 0x82)
                              or k[0] & 0xC0 == 0x80 for k in kids) and kids[0][0] in (0x30, 0x04, 0x03)


def _label_der(fields: list[Field], der: bytes, base: int) -> None:
    """Give the bytes no field names yet a leaf: DER headers, algorithm identifiers,
    extensions wssviz does not describe (their OID and value)."""
    from wssviz.dissect.build import place

    try:
        leaves = _der_leaves(der, 0, len(der), base)
    except ValueError:
        return
    for leaf in leaves:
        place(fields, leaf)


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
        return Check("host_name", False, Msg("check.host_no_san", host=hostname))
    if ip is not None:
        ips = san.value.get_values_for_type(x509.IPAddress)
        if ip in ips:
            return Check("host_name", True, Msg("check.host_ip_ok", host=hostname, ip=str(ip)))
        return Check("host_name", False, Msg("check.host_ip_mismatch", host=hostname,
                                             have=[f"IP:{a}" for a in ips] or None))
    dns = san.value.get_values_for_type(x509.DNSName)
    for pattern in dns:
        if _match_dns(pattern, hostname):
            return Check("host_name", True, Msg("check.host_ok", host=hostname, pattern=pattern,
                                                wildcard=True if "*" in pattern else None))
    return Check("host_name", False, Msg("check.host_mismatch", host=hostname,
                                         have=[f"DNS:{d}" for d in dns] or None))


# --- chain ----------------------------------------------------------------------------


def _load_pem(pem: str) -> list[x509.Certificate]:
    try:  # a trusted certificate that cannot be read trusts nothing
        return [_parsed(c) for c in x509.load_pem_x509_certificates(pem.encode("ascii", "replace"))]
    except _BROKEN:
        return []


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> tuple[bool, Msg]:
    try:
        cert.verify_directly_issued_by(issuer)
        return True, Msg("check.sig_valid")
    except InvalidSignature:
        return False, Msg("check.sig_invalid")
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        return False, Msg("check.sig_cannot", detail=str(exc))


def check_chain(chain_der: list[bytes], trust_pem: list[str], hostname: str,
                at: datetime) -> list[Check]:
    """What a client concludes about a server's chain, one Check per decision.

    ``at`` is the moment the dates are judged (the session's start, never "now").
    """
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    if not chain_der:
        return [Check("chain", False, Msg("check.no_certificate"))]
    try:
        chain = [load(d) for d in chain_der]
    except TLSFormatError as exc:
        return [Check("chain", False, exc.msg)]
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
        role = Msg("word.leaf") if len(path) == 1 else Msg("word.intermediate")
        checks.append(Check("signature", ok, Msg("check.signed_by", role=role,
                                                 subject=_name_label(cur.subject),
                                                 issuer=_name_label(issuer.subject),
                                                 alg=signature_algorithm_label(cur), result=how)))
        path.append(issuer)
        if from_anchor:
            anchor = issuer
            break
        if len(path) > 10:
            break
    names_in_path = " → ".join(_name_label(c.subject) for c in path)
    if anchor is not None:
        checks.insert(0, Check("chain", True, Msg("check.chain_ok", path=names_in_path)))
    else:
        last = path[-1]
        checks.insert(0, Check("chain", False, Msg("check.chain_untrusted", path=names_in_path,
                                                   issuer=_name_label(last.issuer), n=len(anchors))))

    # Every issuer in the path must be a CA allowed to sign certificates.
    for depth, ca in enumerate(path[1:], 1):
        bc = _ext(ca, x509.BasicConstraints)
        ku = _ext(ca, x509.KeyUsage)
        label = _name_label(ca.subject)
        if bc is None or not bc.value.ca:
            checks.append(Check("ca", False, Msg("check.ca_not_ca", name=label)))
        elif bc.value.path_length is not None and depth - 1 > bc.value.path_length:
            checks.append(Check("ca", False, Msg("check.ca_path_length", name=label, depth=depth - 1,
                                                 limit=bc.value.path_length)))
        elif ku is not None and not ku.value.key_cert_sign:
            checks.append(Check("ca", False, Msg("check.ca_no_keycertsign", name=label)))
        else:
            checks.append(Check("ca", True, Msg("check.ca_ok", name=label,
                                                keycertsign=True if ku is not None else None)))

    checks.append(_check_host(chain[0], hostname))

    for cert in path:
        nb, na = cert.not_valid_before_utc, cert.not_valid_after_utc
        span = f"{nb:%Y-%m-%d} → {na:%Y-%m-%d}"
        label = _name_label(cert.subject)
        if at < nb:
            checks.append(Check("validity", False, Msg("check.not_yet_valid", name=label, span=span,
                                                       at=format_time(at))))
        elif at > na:
            checks.append(Check("validity", False, Msg("check.expired", name=label, when=format_time(na),
                                                       span=span, at=format_time(at))))
        else:
            checks.append(Check("validity", True, Msg("check.valid", name=label, span=span,
                                                      at=format_time(at))))

    checks.append(_check_leaf_usage(chain[0]))
    return checks


def _check_leaf_usage(leaf: x509.Certificate) -> Check:
    problems: list[Msg] = []
    good: list[str] = []
    ku = _ext(leaf, x509.KeyUsage)
    if ku is not None:
        if ku.value.digital_signature:
            good.append("digitalSignature")
        else:
            problems.append(Msg("check.no_digital_signature"))
    eku = _ext(leaf, x509.ExtendedKeyUsage)
    if eku is not None:
        if ExtendedKeyUsageOID.SERVER_AUTH in eku.value:
            good.append("serverAuth")
        else:
            problems.append(Msg("check.no_server_auth"))
    bc = _ext(leaf, x509.BasicConstraints)
    if bc is not None and bc.value.ca:
        problems.append(Msg("check.leaf_is_ca"))
    if problems:
        return Check("key_usage", False, Msg("check.usage_problems", items=problems))
    if not good:
        return Check("key_usage", True, Msg("check.usage_unrestricted"))
    return Check("key_usage", True, Msg("check.usage_ok", items=good))


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
        return Check("signature", False, exc.msg)
    who = _name_label(cert.subject)
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return Check("signature", False, Msg("check.tls_signature", who=who, scheme=scheme_name,
                                             result=Msg("value.key_unreadable")))

    def result(ok: bool, outcome: Msg) -> Check:
        return Check("signature", ok, Msg("check.tls_signature", who=who, scheme=scheme_name, result=outcome))

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
            return result(False, Msg("check.scheme_unsupported", scheme=f"0x{scheme:04x}"))
    except _KeyMismatch:
        return result(False, Msg("check.scheme_key_mismatch", key=public_key_label(cert)))
    except InvalidSignature:
        return result(False, Msg("check.sig_invalid"))
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        return result(False, Msg("check.sig_cannot", detail=str(exc)))
    return result(True, Msg("check.sig_valid"))


class _KeyMismatch(Exception):
    pass


def tls13_certificate_verify_content(transcript_hash: bytes, server: bool = True) -> bytes:
    """What a TLS 1.3 CertificateVerify signs (RFC 8446 §4.4.3)."""
    context = b"TLS 1.3, server CertificateVerify" if server else b"TLS 1.3, client CertificateVerify"
    return b"\x20" * 64 + context + b"\x00" + bytes(transcript_hash)
