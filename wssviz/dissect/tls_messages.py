"""Handshake messages, alerts and ChangeCipherSpec as trees of Fields.

``describe_handshake`` takes one whole handshake message (type, 3-byte length,
body: what ``HandshakeBuffer`` returns) and gives back a ``Described``: its
name, a one-line summary, the Field tree (``of="data"``, spans relative to the
message start; the caller shifts them) and ``info``, the raw values the
orchestrator needs (randoms, suite, version, certificates, signature, ...).

Field names are a contract with the UI and the explanation catalogs; see
docs/steps.md and the tests.  Values are always strings for
people; numbers are written as ``names.label`` does ("0x1301 TLS_AES_128_GCM_SHA256").

Malformed input raises ``TLSFormatError`` (layer, RFC section, offset).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from wssviz.core import tls_records as tr
from wssviz.core.tls_records import (ExtensionType as ET, HandshakeType as HT, Item,
                                     TLSFormatError)
from wssviz.dissect import names
from wssviz.steps import Field

__all__ = ["Described", "describe_handshake", "describe_alert", "describe_ccs",
           "MESSAGE_NAMES"]


@dataclass
class Described:
    name: str
    summary: str
    fields: list[Field]
    info: dict[str, Any] = field(default_factory=dict)


#: Display names of handshake messages (the top field and ``Described.name``).
MESSAGE_NAMES = {
    HT.client_hello: "ClientHello", HT.server_hello: "ServerHello",
    HT.new_session_ticket: "NewSessionTicket", HT.end_of_early_data: "EndOfEarlyData",
    HT.encrypted_extensions: "EncryptedExtensions", HT.certificate: "Certificate",
    HT.server_key_exchange: "ServerKeyExchange", HT.certificate_request: "CertificateRequest",
    HT.server_hello_done: "ServerHelloDone", HT.certificate_verify: "CertificateVerify",
    HT.client_key_exchange: "ClientKeyExchange", HT.finished: "Finished",
    HT.key_update: "KeyUpdate", HT.message_hash: "MessageHash",
}

# Small registries scapy has no table for.
_PSK_MODES = {0: "psk_ke", 1: "psk_dhe_ke"}  # RFC 8446 §4.2.9
_POINT_FORMATS = {0: "uncompressed", 1: "ansiX962_compressed_prime",
                  2: "ansiX962_compressed_char2"}  # RFC 8422 §5.1.2
_CERT_COMPRESSION = {1: "zlib", 2: "brotli", 3: "zstd"}  # RFC 8879 §3
_CERT_TYPES = {1: "rsa_sign", 2: "dss_sign", 3: "rsa_fixed_dh", 4: "dss_fixed_dh",
               64: "ecdsa_sign"}  # RFC 5246 §7.4.4, RFC 8422 §5.5
_DOWNGRADE = {b"DOWNGRD\x01": "TLS 1.2", b"DOWNGRD\x00": "TLS 1.1 or below"}  # RFC 8446 §4.1.3


# --- small helpers -----------------------------------------------------------------


def _f(name: str, value: str, start: int, end: int, children: list[Field] | None = None) -> Field:
    return Field(name, value, start, end, "data", children or [])


def _fi(name: str, item: Item, value: str, children: list[Field] | None = None) -> Field:
    return _f(name, value, item.start, item.end, children)


def _hex(data: bytes, limit: int = 48) -> str:
    if not data:
        return "empty"
    if len(data) <= limit:
        return data.hex()
    return f"{data[:32].hex()}… ({len(data)} bytes)"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _text(data: bytes) -> str:
    """Peer bytes as printable text (never markup: views render plain Text)."""
    return "".join(ch if ch.isprintable() else "\ufffd"
                   for ch in data.decode("ascii", "replace"))


def _versions_phrase(codes: list[int]) -> str:
    """[0x0304, 0x0303] -> "TLS 1.3 and 1.2"."""
    labels = [names.version(c) for c in codes]
    if not labels:
        return "nothing"
    short = [labels[0]] + [v[4:] if v.startswith("TLS ") and labels[0].startswith("TLS ") else v
                           for v in labels[1:]]
    if len(short) == 1:
        return short[0]
    return ", ".join(short[:-1]) + " and " + short[-1]


def _header_fields(msg: bytes) -> list[Field]:
    length = int.from_bytes(msg[1:4], "big")
    return [_f("handshake type", names.label("handshake_type", msg[0]), 0, 1),
            _f("length", f"{length} bytes", 1, 4)]


# --- extensions -------------------------------------------------------------------


def _int_children(child: str, items: list[Item], fmt: Callable[[int], str]) -> list[Field]:
    return [_fi(child, it, fmt(it.value)) for it in items]


def _describe_extension(ext: tr.Extension, msg: bytes, context: str,
                        info: dict[str, Any]) -> Field:
    """One extension as a Field whose value is a short human summary."""
    t = ext.type
    name = names.extension(t)
    kids: list[Field] = []
    if tr.is_grease(t):
        return _f(name, f"GREASE: a reserved value that must be ignored ({len(ext.body)} bytes)",
                  ext.start, ext.end)
    body = tr.parse_extension_body(ext, msg, context)
    value = f"{len(ext.body)} bytes" if ext.body else "empty"

    if t == ET.server_name:
        if body.kind == "empty":
            value = "acknowledged (the server used the name the client sent)"
        else:
            hosts = [sn.name.value for sn in body.names]
            kids = [_fi("host name", sn.name, _text(sn.name.value.encode("ascii", "replace")))
                    for sn in body.names]
            value = ", ".join(k.value for k in kids)
            if hosts:
                info.setdefault("sni", hosts[0])
    elif t in (ET.supported_groups,):
        kids = _int_children("group", body.items, lambda c: names.label("group", c))
        value = ", ".join(names.group(i.value) for i in body.items if not tr.is_grease(i.value))
        info["supported_groups"] = [i.value for i in body.items]
    elif t in (ET.signature_algorithms, ET.signature_algorithms_cert):
        kids = _int_children("scheme", body.items, lambda c: names.label("signature_scheme", c))
        value = _plural(len(body.items), "scheme") + ": " + ", ".join(
            names.signature_scheme(i.value) for i in body.items[:4]) + (
            ", …" if len(body.items) > 4 else "")
    elif t == ET.ec_point_formats:
        kids = _int_children("format", body.items,
                             lambda c: f"{c} {_POINT_FORMATS.get(c, 'unknown')}")
        value = ", ".join(_POINT_FORMATS.get(i.value, str(i.value)) for i in body.items)
    elif t == ET.psk_key_exchange_modes:
        kids = _int_children("mode", body.items, lambda c: f"{c} {_PSK_MODES.get(c, 'unknown')}")
        value = ", ".join(_PSK_MODES.get(i.value, str(i.value)) for i in body.items)
    elif t == ET.compress_certificate:
        kids = _int_children("algorithm", body.items,
                             lambda c: f"{c} {_CERT_COMPRESSION.get(c, 'unknown')}")
        value = ", ".join(_CERT_COMPRESSION.get(i.value, str(i.value)) for i in body.items)
    elif t == ET.supported_versions:
        if body.kind == "ints":
            kids = _int_children("version", body.items, lambda c: names.label("version", c))
            real = [i.value for i in body.items if not tr.is_grease(i.value)]
            value = ", ".join(names.version(c) for c in real)
            info["supported_versions"] = real
        else:
            kids = [_fi("selected version", body.value, names.label("version", body.value.value))]
            value = names.version(body.value.value)
    elif t == ET.application_layer_protocol_negotiation:
        protos = [_text(i.value) for i in body.items]
        kids = [_fi("protocol", i, p) for i, p in zip(body.items, protos, strict=True)]
        value = ", ".join(protos)
        info["alpn"] = protos if context == "client_hello" else protos[0] if protos else None
    elif t == ET.key_share:
        if body.kind == "key_share_hrr":
            g = body.value.value
            kids = [_fi("selected group", body.value, names.label("group", g))]
            value = f"retry with {names.group(g)}"
            info["key_share_group"] = g
        else:
            shares = []
            for e in body.entries:
                g = e.group.value
                desc = (f"{names.group(g)} (GREASE)" if tr.is_grease(g)
                        else f"{names.group(g)} ({len(e.key.value)}-byte key)")
                shares.append(desc)
                kids.append(_f("key share", desc, e.start, e.end, [
                    _fi("group", e.group, names.label("group", g)),
                    _fi("key exchange", e.key, _hex(e.key.value))]))
            value = ", ".join(shares) if shares else "empty (asks the server to choose)"
            if body.kind == "key_share_server":
                info["key_share_group"] = body.entries[0].group.value
                info["key_share"] = body.entries[0].key.value
            else:
                info["key_share_groups"] = [e.group.value for e in body.entries
                                            if not tr.is_grease(e.group.value)]
    elif t == ET.pre_shared_key:
        if body.kind == "psk_offer":
            for n, ident in enumerate(body.identities, 1):
                kids.append(_fi(f"identity {n}", ident.identity,
                                f"{len(ident.identity.value)}-byte ticket", [
                                    _fi("obfuscated ticket age", ident.obfuscated_ticket_age,
                                        str(ident.obfuscated_ticket_age.value))]))
            for n, b in enumerate(body.binders, 1):
                kids.append(_fi(f"binder {n}", b, _hex(b.value)))
            value = f"offers {_plural(len(body.identities), 'ticket')} for resumption"
        else:
            kids = [_fi("selected identity", body.value, str(body.value.value))]
            value = f"accepts ticket #{body.value.value}"
    elif t == ET.padding:
        value = f"{len(ext.body)} bytes of padding"
    elif t == ET.session_ticket:
        value = f"{len(ext.body)}-byte ticket" if ext.body else "empty (ticket welcome)"
    elif t == ET.renegotiation_info:
        value = ("empty: initial handshake, secure renegotiation supported"
                 if not body.opaque.value else f"{len(body.opaque.value)} bytes")
    elif t == ET.record_size_limit:
        kids = [_fi("limit", body.value, f"{body.value.value} bytes")]
        value = f"{body.value.value} bytes"
    elif t == ET.early_data:
        value = (f"max {body.value.value} bytes of early data" if body.kind == "int"
                 else "early data")
    elif t == ET.encrypt_then_mac:
        value = "supported"
    elif t == ET.extended_master_secret:
        value = "supported (RFC 7627)"
    elif t == ET.post_handshake_auth:
        value = "client accepts post-handshake authentication"
    elif t == ET.status_request:
        if body.kind == "status_request":
            kids = [_fi("status type", body.value,
                        f"{body.value.value} {'ocsp' if body.value.value == 1 else 'unknown'}")]
            value = "asks for an OCSP staple" if body.value.value == 1 else "status request"
        elif body.kind == "empty":
            value = "will staple an OCSP response"
    elif t == ET.cookie:
        kids = [_fi("cookie", body.opaque, _hex(body.opaque.value))]
        value = f"{len(body.opaque.value)}-byte cookie to echo"
    return _f(name, value, ext.start, ext.end, kids)


def _extensions_field(exts: list[tr.Extension], span: tuple[int, int] | None, msg: bytes,
                      context: str, info: dict[str, Any]) -> Field | None:
    if span is None:
        return None
    kids = [_describe_extension(e, msg, context, info) for e in exts]
    info["extensions"] = [e.type for e in exts]
    return _f("extensions", _plural(len(exts), "extension"), span[0], span[1], kids)


# --- messages --------------------------------------------------------------------


def _client_hello(msg: bytes, info: dict[str, Any]) -> tuple[list[Field], str]:
    ch = tr.parse_client_hello(msg)
    info["client_random"] = ch.random.value
    info["session_id"] = ch.session_id.value
    info["cipher_suites"] = [s.value for s in ch.cipher_suites]
    suites = [_fi(f"suite {n}", s, names.label("cipher_suite", s.value))
              for n, s in enumerate(ch.cipher_suites, 1)]
    methods = [_fi("method", m, "0 null" if m.value == 0 else f"{m.value} (compression)")
               for m in ch.compression_methods]
    kids = _header_fields(msg) + [
        _fi("legacy version", ch.legacy_version, names.label("version", ch.legacy_version.value)),
        _fi("random", ch.random, ch.random.value.hex()),
        _fi("session id", ch.session_id, _hex(ch.session_id.value)),
        _f("cipher suites", _plural(len(suites), "suite"), *ch.cipher_suites_span, suites),
        _f("compression methods", ", ".join(m.value[2:] if m.value.startswith("0 ") else m.value
                                            for m in methods), *ch.compression_span, methods),
    ]
    ext = _extensions_field(ch.extensions, ch.extensions_span, msg, "client_hello", info)
    if ext is not None:
        kids.append(ext)
    versions = info.get("supported_versions") or [ch.legacy_version.value]
    real_suites = [s for s in info["cipher_suites"] if not tr.is_grease(s)]
    parts = [f"offers {_versions_phrase(versions)}", _plural(len(real_suites), "suite")]
    if info.get("key_share_groups") is not None:
        groups = ", ".join(names.group(g) for g in info["key_share_groups"]) or "none"
        parts.append(f"key shares {groups}")
    summary = ", ".join(parts)
    if info.get("sni"):
        summary += f"; SNI {info['sni']}"
    if info.get("alpn"):
        summary += f"; ALPN {', '.join(info['alpn'])}"
    return kids, summary


def _server_hello(msg: bytes, info: dict[str, Any]) -> tuple[list[Field], str, str]:
    sh = tr.parse_server_hello(msg)
    name = "HelloRetryRequest" if sh.is_hrr else "ServerHello"
    context = "hello_retry_request" if sh.is_hrr else "server_hello"
    info["is_hrr"] = sh.is_hrr
    info["server_random"] = sh.random.value
    info["session_id"] = sh.session_id.value
    info["cipher_suite"] = sh.cipher_suite.value
    rnd = sh.random.value.hex()
    if sh.is_hrr:
        rnd += " (the HelloRetryRequest marker, RFC 8446 §4.1.3)"
    elif sh.random.value[-8:] in _DOWNGRADE:
        rnd += f" (ends with the downgrade sentinel: server supports TLS 1.3 but chose " \
               f"{_DOWNGRADE[sh.random.value[-8:]]})"
    kids = _header_fields(msg) + [
        _fi("legacy version", sh.legacy_version, names.label("version", sh.legacy_version.value)),
        _fi("random", sh.random, rnd),
        _fi("session id", sh.session_id, _hex(sh.session_id.value)),
        _fi("cipher suite", sh.cipher_suite, names.label("cipher_suite", sh.cipher_suite.value)),
        _fi("compression method", sh.compression_method,
            "0 null" if sh.compression_method.value == 0 else str(sh.compression_method.value)),
    ]
    ext = _extensions_field(sh.extensions, sh.extensions_span, msg, context, info)
    if ext is not None:
        kids.append(ext)
    version = tr.selected_version(sh)
    info["selected_version"] = version
    sv = sh.extension(ET.supported_versions)
    where = (sv.body_start, sv.end) if sv is not None else (sh.legacy_version.start,
                                                             sh.legacy_version.end)
    kids.append(_f("selected version", names.label("version", version), *where))
    suite = names.cipher_suite(sh.cipher_suite.value)
    if sh.is_hrr:
        group = info.get("key_share_group")
        summary = (f"asks the client to retry with key share {names.group(group)}"
                   if group is not None else "asks the client to send a new ClientHello")
        summary += f" ({names.version(version)}, {suite})"
    else:
        summary = f"picks {names.version(version)}, {suite}"
        if info.get("key_share_group") is not None:
            summary += f", key share {names.group(info['key_share_group'])}"
    return kids, summary, name


def _certificate(msg: bytes, tls13: bool | None, info: dict[str, Any]) -> tuple[list[Field], str]:
    from wssviz.dissect import x509  # cryptography: only when a certificate shows up

    cert = _either(tls13, lambda v: tr.parse_certificate(msg, v))
    kids = _header_fields(msg)
    if cert.request_context is not None:
        kids.append(_fi("certificate request context", cert.request_context,
                        _hex(cert.request_context.value)))
    entries = []
    ders = []
    subjects = []
    for n, entry in enumerate(cert.entries, 1):
        der = entry.cert.value
        ders.append(der)
        sub = x509.certificate_fields(der, base=entry.cert.start)
        subject = next((f.value for f in sub if f.name == "subject"), "?")
        subjects.append(subject)
        if entry.extensions:
            sub.append(_f("extensions", _plural(len(entry.extensions), "extension"),
                          entry.cert.end, entry.end,
                          [_describe_extension(e, msg, "certificate", {})
                           for e in entry.extensions]))
        entries.append(_f(f"certificate {n}", subject, entry.start, entry.end, sub))
    kids.append(_f("certificates", _plural(len(entries), "certificate"),
                   cert.list_span[0], cert.list_span[1], entries))
    info["certificates"] = ders
    info["tls13"] = cert.request_context is not None
    if not ders:
        return kids, "no certificate"
    issuer = x509.issuer_name(ders[0])
    return kids, (f"{x509.short_name(ders[0])}, issued by {issuer} "
                  f"({_plural(len(ders), 'certificate')})")


def _either(tls13: bool | None, parse: Callable[[bool], Any]) -> Any:
    """Parse as the given version; when unknown, try TLS 1.3 then TLS 1.2."""
    if tls13 is not None:
        return parse(tls13)
    try:
        return parse(True)
    except TLSFormatError as first:
        try:
            return parse(False)
        except TLSFormatError:
            raise first from None


def _certificate_verify(msg: bytes, info: dict[str, Any]) -> tuple[list[Field], str]:
    cv = tr.parse_certificate_verify(msg)
    info["signature_scheme"] = cv.scheme.value
    info["signature"] = cv.signature.value
    kids = _header_fields(msg) + [
        _fi("signature scheme", cv.scheme, names.label("signature_scheme", cv.scheme.value)),
        _fi("signature", cv.signature, _hex(cv.signature.value)),
    ]
    return kids, (f"signs the handshake so far with {names.signature_scheme(cv.scheme.value)} "
                  f"({len(cv.signature.value)}-byte signature)")


def _finished(msg: bytes, info: dict[str, Any]) -> tuple[list[Field], str]:
    fin = tr.parse_finished(msg)
    info["verify_data"] = fin.verify_data.value
    kids = _header_fields(msg) + [_fi("verify data", fin.verify_data,
                                      fin.verify_data.value.hex())]
    return kids, f"{len(fin.verify_data.value)}-byte MAC over the whole handshake transcript"


def _duration(seconds: int) -> str:
    if seconds and seconds % 86400 == 0:
        return f"{seconds} s ({_plural(seconds // 86400, 'day')})"
    if seconds and seconds % 3600 == 0:
        return f"{seconds} s ({seconds // 3600} h)"
    return f"{seconds} s"


def _new_session_ticket(msg: bytes, tls13: bool | None,
                        info: dict[str, Any]) -> tuple[list[Field], str]:
    nst = _either(tls13, lambda v: tr.parse_new_session_ticket(msg, v))
    info.update(lifetime=nst.lifetime.value, ticket=nst.ticket.value,
                age_add=nst.age_add.value if nst.age_add else None,
                nonce=nst.nonce.value if nst.nonce else None)
    kids = _header_fields(msg) + [_fi("ticket lifetime", nst.lifetime,
                                      _duration(nst.lifetime.value))]
    if nst.age_add is not None:
        kids.append(_fi("ticket age add", nst.age_add, str(nst.age_add.value)))
        kids.append(_fi("ticket nonce", nst.nonce, _hex(nst.nonce.value)))
    kids.append(_fi("ticket", nst.ticket, _hex(nst.ticket.value)))
    if nst.extensions:
        s = nst.extensions[0].start - 2
        kids.append(_f("extensions", _plural(len(nst.extensions), "extension"),
                       s, nst.extensions[-1].end,
                       [_describe_extension(e, msg, "new_session_ticket", info)
                        for e in nst.extensions]))
    return kids, (f"{len(nst.ticket.value)}-byte ticket for resumption, valid "
                  f"{_duration(nst.lifetime.value)}")


def _encrypted_extensions(msg: bytes, info: dict[str, Any]) -> tuple[list[Field], str]:
    ee = tr.parse_encrypted_extensions(msg)
    kids = _header_fields(msg)
    kids.append(_extensions_field(ee.extensions, ee.extensions_span, msg,
                                  "encrypted_extensions", info))
    if not ee.extensions:
        return kids, "no extensions"
    summary = ", ".join(names.extension(e.type) for e in ee.extensions)
    if info.get("alpn"):
        summary = f"ALPN {info['alpn']}; " + summary
    return kids, summary


def _certificate_request(msg: bytes, tls13: bool | None,
                         info: dict[str, Any]) -> tuple[list[Field], str]:
    cr = _either(tls13, lambda v: tr.parse_certificate_request(msg, v))
    kids = _header_fields(msg)
    if cr.request_context is not None:
        kids.append(_fi("certificate request context", cr.request_context,
                        _hex(cr.request_context.value)))
        if cr.extensions:
            s = cr.extensions[0].start - 2
            kids.append(_f("extensions", _plural(len(cr.extensions), "extension"), s,
                           cr.extensions[-1].end,
                           [_describe_extension(e, msg, "certificate_request", info)
                            for e in cr.extensions]))
        return kids, "asks the client for a certificate"
    if cr.certificate_types:
        kids.append(_f("certificate types", ", ".join(
            _CERT_TYPES.get(i.value, str(i.value)) for i in cr.certificate_types),
            cr.certificate_types[0].start - 1, cr.certificate_types[-1].end,
            [_fi("type", i, f"{i.value} {_CERT_TYPES.get(i.value, 'unknown')}")
             for i in cr.certificate_types]))
    if cr.signature_algorithms:
        kids.append(_f("signature algorithms", _plural(len(cr.signature_algorithms), "scheme"),
                       cr.signature_algorithms[0].start - 2, cr.signature_algorithms[-1].end,
                       _int_children("scheme", cr.signature_algorithms,
                                     lambda c: names.label("signature_scheme", c))))
    cas = [_fi("authority", a, _hex(a.value)) for a in cr.authorities]
    if cas:
        kids.append(_f("certificate authorities", _plural(len(cas), "name"),
                       cas[0].start - 2, cas[-1].end, cas))
    return kids, "asks the client for a certificate"


def _server_key_exchange(msg: bytes, info: dict[str, Any]) -> tuple[list[Field], str]:
    ske = tr.parse_server_key_exchange(msg)
    info.update(ske_params=ske.params.value, curve=ske.named_curve.value,
                public_key=ske.public.value, signature_scheme=ske.scheme.value,
                signature=ske.signature.value)
    kids = _header_fields(msg) + [
        _fi("curve type", ske.curve_type, "3 named_curve"),
        _fi("curve", ske.named_curve, names.label("group", ske.named_curve.value)),
        _fi("public key", ske.public, _hex(ske.public.value)),
        _fi("signature scheme", ske.scheme, names.label("signature_scheme", ske.scheme.value)),
        _fi("signature", ske.signature, _hex(ske.signature.value)),
    ]
    return kids, (f"ephemeral {names.group(ske.named_curve.value)} key, signed with "
                  f"{names.signature_scheme(ske.scheme.value)}")


def _client_key_exchange(msg: bytes, info: dict[str, Any]) -> tuple[list[Field], str]:
    cke = tr.parse_client_key_exchange(msg)
    info["public_key"] = cke.public.value
    kids = _header_fields(msg) + [_fi("public key", cke.public, _hex(cke.public.value))]
    return kids, f"the client's ephemeral ECDH public key ({len(cke.public.value)} bytes)"


def _empty(msg: bytes, what: str) -> tuple[list[Field], str]:
    r = tr.handshake_header(msg, None, what)
    r.done(f"{what} (its body is empty)")
    return _header_fields(msg), {
        "ServerHelloDone": "the server has sent all its hello messages",
        "EndOfEarlyData": "no more early data follows"}.get(what, what)


def _key_update(msg: bytes, info: dict[str, Any]) -> tuple[list[Field], str]:
    r = tr.handshake_header(msg, HT.key_update, "KeyUpdate")
    r.rfc = "RFC 8446 §4.6.3"
    req = r.uint(1, "request_update")
    r.done("request_update")
    if req.value not in (0, 1):
        raise r.fail(f"request_update {req.value} is neither 0 nor 1", req.start)
    info["request_update"] = req.value
    text = "1 update_requested" if req.value else "0 update_not_requested"
    return (_header_fields(msg) + [_fi("request update", req, text)],
            "the sender switches to new traffic keys" + (
                " and asks the peer to do the same" if req.value else ""))


def describe_handshake(msg: bytes, *, tls13: bool | None, from_client: bool) -> Described:
    """Describe one whole handshake message (type + 3-byte length + body)."""
    msg = bytes(msg)
    tr.handshake_header(msg)  # type present and length consistent
    t = msg[0]
    info: dict[str, Any] = {"type": t, "from_client": from_client}
    name = MESSAGE_NAMES.get(t, f"Handshake({names.handshake_type(t)})")
    if t == HT.client_hello:
        kids, summary = _client_hello(msg, info)
    elif t == HT.server_hello:
        kids, summary, name = _server_hello(msg, info)
    elif t == HT.certificate:
        kids, summary = _certificate(msg, tls13, info)
    elif t == HT.certificate_verify:
        kids, summary = _certificate_verify(msg, info)
    elif t == HT.finished:
        kids, summary = _finished(msg, info)
    elif t == HT.new_session_ticket:
        kids, summary = _new_session_ticket(msg, tls13, info)
    elif t == HT.encrypted_extensions:
        kids, summary = _encrypted_extensions(msg, info)
    elif t == HT.certificate_request:
        kids, summary = _certificate_request(msg, tls13, info)
    elif t == HT.server_key_exchange:
        kids, summary = _server_key_exchange(msg, info)
    elif t == HT.client_key_exchange:
        kids, summary = _client_key_exchange(msg, info)
    elif t in (HT.server_hello_done, HT.end_of_early_data):
        kids, summary = _empty(msg, name)
    elif t == HT.key_update:
        kids, summary = _key_update(msg, info)
    else:
        kids = _header_fields(msg) + [_f("body", _hex(msg[4:]), 4, len(msg))]
        summary = f"handshake message of type {t} ({names.handshake_type(t)})"
    info["name"] = name
    return Described(name, summary, [_f(name, summary, 0, len(msg), kids)], info)


# --- alert and change_cipher_spec ---------------------------------------------------


def describe_alert(payload: bytes) -> Described:
    """Describe a decrypted Alert record payload (level, description)."""
    al = tr.parse_alert(bytes(payload))
    level, desc = al.level.value, al.description.value
    kids = [_fi("level", al.level, names.label("alert_level", level)),
            _fi("description", al.description, names.label("alert", desc))]
    if desc == 0:
        summary = "close_notify: the sender will send no more data"
    elif desc == 90:
        summary = "user_canceled: the sender abandons the handshake"
    else:
        summary = f"{names.alert_level(level)} alert: {names.alert(desc)}"
    return Described("Alert", summary, [_f("Alert", summary, 0, 2, kids)],
                     {"level": level, "description": desc})


def describe_ccs(payload: bytes, tls13: bool | None = None) -> Described:
    """Describe a ChangeCipherSpec record payload (the single byte 0x01)."""
    item = tr.parse_ccs(bytes(payload))
    if tls13:
        summary = "middlebox compatibility only: changes nothing in TLS 1.3 (RFC 8446 §D.4)"
    elif tls13 is False:
        summary = "from here on this side encrypts with the negotiated keys"
    else:
        summary = "switch to the negotiated keys (ignored in TLS 1.3)"
    kids = [_fi("type", item, "1 change_cipher_spec")]
    return Described("ChangeCipherSpec", summary, [_f("ChangeCipherSpec", summary, 0, 1, kids)],
                     {"tls13": tls13})
