"""Handshake messages, alerts and ChangeCipherSpec as trees of Fields.

``describe_handshake`` takes one whole handshake message (type, 3-byte length,
body: what ``HandshakeBuffer`` returns) and gives back a ``Described``: its
protocol name, a one-line summary (a ``Msg``), the Field tree (``of="data"``, spans
relative to the message start; the caller shifts them) and ``parsed``, the core's
own dataclass for the message (``tls_records.ClientHello``, ``Certificate``, ...),
which is all the orchestrator reads.

Field ids are listed in docs/steps.md; a field's raw value is the number, the bytes
or the text the message carries; its value for people is a protocol token
("0x1301 TLS_AES_128_GCM_SHA256") or a ``Msg`` the catalogs put into words.

Malformed input raises ``TLSFormatError`` (layer, RFC section, offset).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from wssviz.core import tls_records as tr
from wssviz.core.tls_records import (ExtensionType as ET, HandshakeType as HT, Item,
                                     TLSFormatError)
from wssviz.dissect import names
from wssviz.dissect.build import hex_or_empty, nbytes, place
from wssviz.steps import Field, Msg

__all__ = ["Described", "KeyUpdate", "describe_handshake", "describe_alert", "describe_ccs",
           "MESSAGE_NAMES", "client_hello_extension", "server_hello_extension"]


@dataclass
class Described:
    name: str  # the message's protocol name, e.g. "ClientHello"
    summary: Msg
    fields: list[Field]
    parsed: Any = None  # the core dataclass of the message (None for an unknown type)


@dataclass
class KeyUpdate:
    request_update: Item


#: Protocol names of handshake messages (the top field and ``Described.name``).
MESSAGE_NAMES = {
    HT.client_hello: "ClientHello", HT.server_hello: "ServerHello",
    HT.new_session_ticket: "NewSessionTicket", HT.end_of_early_data: "EndOfEarlyData",
    HT.encrypted_extensions: "EncryptedExtensions", HT.certificate: "Certificate",
    HT.server_key_exchange: "ServerKeyExchange", HT.certificate_request: "CertificateRequest",
    HT.server_hello_done: "ServerHelloDone", HT.certificate_verify: "CertificateVerify",
    HT.client_key_exchange: "ClientKeyExchange", HT.finished: "Finished",
    HT.key_update: "KeyUpdate", HT.message_hash: "MessageHash",
}
#: The id part of each message (``tls.<id>``): the registry's own name.
MESSAGE_IDS = {t: t.name for t in HT}

# Small registries scapy has no table for (protocol names, the same in every language).
_PSK_MODES = {0: "psk_ke", 1: "psk_dhe_ke"}  # RFC 8446 §4.2.9
_POINT_FORMATS = {0: "uncompressed", 1: "ansiX962_compressed_prime",
                  2: "ansiX962_compressed_char2"}  # RFC 8422 §5.1.2
_CERT_COMPRESSION = {1: "zlib", 2: "brotli", 3: "zstd"}  # RFC 8879 §3
_CERT_TYPES = {1: "rsa_sign", 2: "dss_sign", 3: "rsa_fixed_dh", 4: "dss_fixed_dh",
               64: "ecdsa_sign"}  # RFC 5246 §7.4.4, RFC 8422 §5.5
_DOWNGRADE = {b"DOWNGRD\x01": "TLS 1.2", b"DOWNGRD\x00": "TLS 1.1"}  # RFC 8446 §4.1.3


# --- small helpers -----------------------------------------------------------------


def _f(id: str, value: Any, start: int, end: int, children: list[Field] | None = None, *,
       raw: Any = None, name: str | None = None, n: int | None = None) -> Field:
    return Field(id, value, start, end, "data", children or [], raw, name, n)


def _fi(id: str, item: Item, value: Any, children: list[Field] | None = None, *, raw: Any = None,
        name: str | None = None, n: int | None = None) -> Field:
    return _f(id, value, item.start, item.end, children,
              raw=item.value if raw is None else raw, name=name, n=n)


def _named(table: dict[int, str], code: int) -> str | Msg:
    """``"1 psk_dhe_ke"``: a number and its protocol name (or "unknown")."""
    name = table.get(code)
    return f"{code} {name}" if name else Msg("value.code_unknown", code=str(code))


def _word(table: dict[int, str], code: int) -> str | Msg:
    return table.get(code) or Msg("value.unknown_code", code=str(code))


def _text(data: bytes) -> str:
    """Peer bytes as printable text (never markup: views render plain Text)."""
    return "".join(ch if ch.isprintable() else "\ufffd"
                   for ch in data.decode("ascii", "replace"))


def _header_fields(msg: bytes) -> list[Field]:
    length = int.from_bytes(msg[1:4], "big")
    return [_f("tls.handshake.type", names.label("handshake_type", msg[0]), 0, 1, raw=msg[0]),
            _f("tls.handshake.length", nbytes(length), 1, 4, raw=length)]


def _real(codes: list[int]) -> list[int]:
    return [c for c in codes if not tr.is_grease(c)]


def client_hello_extension(ch: tr.ClientHello, msg: bytes, t: int) -> tr.ExtensionBody | None:
    """The parsed body of extension ``t`` of a ClientHello, or None."""
    ext = ch.extension(t)
    return tr.parse_extension_body(ext, msg, "client_hello") if ext is not None else None


def server_hello_extension(sh: tr.ServerHello, msg: bytes, t: int) -> tr.ExtensionBody | None:
    ext = sh.extension(t)
    context = "hello_retry_request" if sh.is_hrr else "server_hello"
    return tr.parse_extension_body(ext, msg, context) if ext is not None else None


# --- extensions -------------------------------------------------------------------


def _int_children(id: str, items: list[Item], fmt: Callable[[int], Any]) -> list[Field]:
    return [_fi(id, it, fmt(it.value)) for it in items]


def _describe_extension(ext: tr.Extension, msg: bytes, context: str) -> Field:
    """One extension as a Field: its protocol name as the label, a short summary as
    the value, its parts as children."""
    t = ext.type
    name = names.extension(t)
    if tr.is_grease(t):
        return _f("tls.ext.grease", Msg("value.ext_grease", n=len(ext.body)), ext.start, ext.end,
                  raw=t, name=name if isinstance(name, str) else None)
    if isinstance(name, Msg):
        return _f("tls.ext.unknown", Msg("value.ext_unknown", code=f"0x{t:04x}", n=len(ext.body)),
                  ext.start, ext.end, raw=t)
    eid = f"tls.ext.{name}"
    body = tr.parse_extension_body(ext, msg, context)
    value: Any = nbytes(len(ext.body)) if ext.body else Msg("value.empty")
    kids: list[Field] = []

    if t == ET.server_name:
        if body.kind == "empty":
            value = Msg("value.sni_ack")
        else:
            for sn in body.names:
                kids.append(_fi(f"{eid}.name_type", sn.name_type,
                                _named({0: "host_name"}, sn.name_type.value)))
                kids.append(_fi(f"{eid}.host_name", sn.name, _text(sn.name.value.encode("ascii", "replace"))))
            value = Msg("value.list", items=[k.value for k in kids if k.id.endswith(".host_name")])
    elif t == ET.supported_groups:
        kids = _int_children(f"{eid}.group", body.items, lambda c: names.label("group", c))
        value = Msg("value.list", items=[names.group(c) for c in _real([i.value for i in body.items])])
    elif t in (ET.signature_algorithms, ET.signature_algorithms_cert):
        kids = _int_children(f"{eid}.scheme", body.items, lambda c: names.label("signature_scheme", c))
        value = Msg("value.schemes", n=len(body.items),
                    first=[names.signature_scheme(i.value) for i in body.items[:4]],
                    more=True if len(body.items) > 4 else None)
    elif t == ET.ec_point_formats:
        kids = _int_children(f"{eid}.format", body.items, lambda c: _named(_POINT_FORMATS, c))
        value = Msg("value.list", items=[_word(_POINT_FORMATS, i.value) for i in body.items])
    elif t == ET.psk_key_exchange_modes:
        kids = _int_children(f"{eid}.mode", body.items, lambda c: _named(_PSK_MODES, c))
        value = Msg("value.list", items=[_word(_PSK_MODES, i.value) for i in body.items])
    elif t == ET.compress_certificate:
        kids = _int_children(f"{eid}.algorithm", body.items, lambda c: _named(_CERT_COMPRESSION, c))
        value = Msg("value.list", items=[_word(_CERT_COMPRESSION, i.value) for i in body.items])
    elif t == ET.supported_versions:
        if body.kind == "ints":
            kids = _int_children(f"{eid}.version", body.items, lambda c: names.label("version", c))
            value = Msg("value.list", items=[names.version(c)
                                             for c in _real([i.value for i in body.items])])
        else:
            kids = [_fi(f"{eid}.selected_version", body.value, names.label("version", body.value.value))]
            value = names.version(body.value.value)
    elif t == ET.application_layer_protocol_negotiation:
        protos = [_text(i.value) for i in body.items]
        kids = [_fi(f"{eid}.protocol", i, p, raw=p) for i, p in zip(body.items, protos, strict=True)]
        value = Msg("value.list", items=protos)
    elif t == ET.key_share:
        if body.kind == "key_share_hrr":
            g = body.value.value
            kids = [_fi(f"{eid}.selected_group", body.value, names.label("group", g))]
            value = Msg("value.retry_with", group=names.group(g))
        else:
            shares = []
            for n, e in enumerate(body.entries, 1):
                g = e.group.value
                desc = (Msg("value.key_share_grease", group=names.group(g)) if tr.is_grease(g)
                        else Msg("value.key_share_entry", group=names.group(g), n=len(e.key.value)))
                shares.append(desc)
                kids.append(_f(f"{eid}.entry", desc, e.start, e.end, [
                    _fi(f"{eid}.group", e.group, names.label("group", g)),
                    _fi(f"{eid}.key_exchange", e.key, hex_or_empty(e.key.value))], raw=g, n=n))
            value = Msg("value.list", items=shares) if shares else Msg("value.key_share_empty")
    elif t == ET.pre_shared_key:
        if body.kind == "psk_offer":
            for n, ident in enumerate(body.identities, 1):
                kids.append(_fi(f"{eid}.identity", ident.identity,
                                Msg("value.ticket_bytes", n=len(ident.identity.value)), n=n))
                kids.append(_fi(f"{eid}.obfuscated_ticket_age", ident.obfuscated_ticket_age,
                                str(ident.obfuscated_ticket_age.value), n=n))
            for n, b in enumerate(body.binders, 1):
                kids.append(_fi(f"{eid}.binder", b, hex_or_empty(b.value), n=n))
            value = Msg("value.psk_offer", n=len(body.identities))
        else:
            kids = [_fi(f"{eid}.selected_identity", body.value, str(body.value.value))]
            value = Msg("value.psk_accept", n=body.value.value)
    elif t == ET.padding:
        value = Msg("value.padding", n=len(ext.body))
    elif t == ET.session_ticket:
        value = Msg("value.ticket_bytes", n=len(ext.body)) if ext.body else Msg("value.ticket_welcome")
    elif t == ET.renegotiation_info:
        value = Msg("value.reneg_initial") if not body.opaque.value else nbytes(len(body.opaque.value))
    elif t == ET.record_size_limit:
        kids = [_fi(f"{eid}.limit", body.value, nbytes(body.value.value))]
        value = nbytes(body.value.value)
    elif t == ET.early_data:
        value = (Msg("value.max_early_data", n=body.value.value) if body.kind == "int"
                 else Msg("value.early_data"))
    elif t == ET.encrypt_then_mac:
        value = Msg("value.supported")
    elif t == ET.extended_master_secret:
        value = Msg("value.ems_supported")
    elif t == ET.post_handshake_auth:
        value = Msg("value.post_handshake_auth")
    elif t == ET.status_request:
        if body.kind == "status_request":
            st = body.value.value
            kids = [_fi(f"{eid}.status_type", body.value, "1 ocsp" if st == 1 else
                        Msg("value.code_unknown", code=str(st)))]
            value = Msg("value.ocsp_request") if st == 1 else Msg("value.status_request")
        elif body.kind == "empty":
            value = Msg("value.ocsp_will_staple")
    elif t == ET.cookie:
        kids = [_fi(f"{eid}.cookie", body.opaque, hex_or_empty(body.opaque.value))]
        value = Msg("value.cookie", n=len(body.opaque.value))
    return _f(eid, value, ext.start, ext.end, kids, raw=t, name=name)


def _extensions_field(exts: list[tr.Extension], span: tuple[int, int] | None, msg: bytes,
                      context: str) -> Field | None:
    if span is None:
        return None
    kids = [_describe_extension(e, msg, context) for e in exts]
    return _f("tls.extensions", Msg("value.count_extensions", n=len(exts)), span[0], span[1], kids,
              raw=[e.type for e in exts])


# --- messages --------------------------------------------------------------------


def _client_hello(msg: bytes) -> tuple[list[Field], Msg, tr.ClientHello]:
    ch = tr.parse_client_hello(msg)
    p = "tls.client_hello"
    suites = [_fi(f"{p}.suite", s, names.label("cipher_suite", s.value), n=n)
              for n, s in enumerate(ch.cipher_suites, 1)]
    methods = [_fi(f"{p}.method", m, "0 null" if m.value == 0 else Msg("value.compression", n=m.value))
               for m in ch.compression_methods]
    kids = _header_fields(msg) + [
        _fi(f"{p}.legacy_version", ch.legacy_version, names.label("version", ch.legacy_version.value)),
        _fi(f"{p}.random", ch.random, ch.random.value.hex()),
        _fi(f"{p}.session_id", ch.session_id, hex_or_empty(ch.session_id.value)),
        _f(f"{p}.cipher_suites", Msg("value.count_suites", n=len(suites)), *ch.cipher_suites_span, suites,
           raw=[s.value for s in ch.cipher_suites]),
        _f(f"{p}.compression_methods",
           Msg("value.list", items=["null" if m.value == 0 else str(m.value) for m in ch.compression_methods]),
           *ch.compression_span, methods, raw=[m.value for m in ch.compression_methods]),
    ]
    ext = _extensions_field(ch.extensions, ch.extensions_span, msg, "client_hello")
    if ext is not None:
        kids.append(ext)
    sv = client_hello_extension(ch, msg, ET.supported_versions)
    versions = _real([i.value for i in sv.items]) if sv is not None else [ch.legacy_version.value]
    ks = client_hello_extension(ch, msg, ET.key_share)
    sni = client_hello_extension(ch, msg, ET.server_name)
    alpn = client_hello_extension(ch, msg, ET.application_layer_protocol_negotiation)
    shares = None
    if ks is not None:
        groups = [names.group(e.group.value) for e in ks.entries if not tr.is_grease(e.group.value)]
        shares = groups or [Msg("value.none")]
    summary = Msg("summary.client_hello", versions=[names.version(v) for v in versions],
                  suites=len(_real([s.value for s in ch.cipher_suites])), shares=shares,
                  sni=_text(sni.names[0].name.value.encode("ascii", "replace")) if sni and sni.names else None,
                  alpn=[_text(i.value) for i in alpn.items] if alpn else None)
    return kids, summary, ch


def _server_hello(msg: bytes) -> tuple[list[Field], Msg, str, tr.ServerHello]:
    sh = tr.parse_server_hello(msg)
    name = "HelloRetryRequest" if sh.is_hrr else "ServerHello"
    p = "tls.hello_retry_request" if sh.is_hrr else "tls.server_hello"
    context = "hello_retry_request" if sh.is_hrr else "server_hello"
    rnd: Any = sh.random.value.hex()
    if sh.is_hrr:
        rnd = Msg("value.random_hrr", hex=rnd)
    elif sh.random.value[-8:] in _DOWNGRADE:
        rnd = Msg("value.random_downgrade", hex=rnd, version=_DOWNGRADE[sh.random.value[-8:]])
    kids = _header_fields(msg) + [
        _fi(f"{p}.legacy_version", sh.legacy_version, names.label("version", sh.legacy_version.value)),
        _fi(f"{p}.random", sh.random, rnd),
        _fi(f"{p}.session_id", sh.session_id, hex_or_empty(sh.session_id.value)),
        _fi(f"{p}.cipher_suite", sh.cipher_suite, names.label("cipher_suite", sh.cipher_suite.value)),
        _fi(f"{p}.compression_method", sh.compression_method,
            "0 null" if sh.compression_method.value == 0 else Msg("value.compression",
                                                                  n=sh.compression_method.value)),
    ]
    ext = _extensions_field(sh.extensions, sh.extensions_span, msg, context)
    if ext is not None:
        kids.append(ext)
    version = tr.selected_version(sh)
    sv = sh.extension(ET.supported_versions)
    where = (sv.body_start, sv.end) if sv is not None else (sh.legacy_version.start,
                                                             sh.legacy_version.end)
    kids.append(_f(f"{p}.selected_version", names.label("version", version), *where, raw=version))
    suite = names.cipher_suite(sh.cipher_suite.value)
    ks = server_hello_extension(sh, msg, ET.key_share)
    if sh.is_hrr:
        group = ks.value.value if ks is not None and ks.value is not None else None
        summary = Msg("summary.hello_retry_request",
                      group=names.group(group) if group is not None else None,
                      version=names.version(version), suite=suite)
    else:
        group = ks.entries[0].group.value if ks is not None and ks.entries else None
        summary = Msg("summary.server_hello", version=names.version(version), suite=suite,
                      group=names.group(group) if group is not None else None)
    return kids, summary, name, sh


def _certificate(msg: bytes, tls13: bool | None) -> tuple[list[Field], Msg, tr.Certificate]:
    from wssviz.dissect import x509  # cryptography: only when a certificate shows up

    cert = _either(tls13, lambda v: tr.parse_certificate(msg, v))
    p = "tls.certificate"
    kids = _header_fields(msg)
    if cert.request_context is not None:
        kids.append(_fi(f"{p}.request_context", cert.request_context,
                        hex_or_empty(cert.request_context.value)))
    entries = []
    for n, entry in enumerate(cert.entries, 1):
        der = entry.cert.value
        sub = x509.certificate_fields(der, base=entry.cert.start)
        if entry.extensions:
            sub.append(_f("tls.extensions", Msg("value.count_extensions", n=len(entry.extensions)),
                          entry.cert.end, entry.end,
                          [_describe_extension(e, msg, "certificate") for e in entry.extensions],
                          raw=[e.type for e in entry.extensions]))
        entries.append(_f(f"{p}.entry", x509.short_name(der), entry.start, entry.end, sub,
                          raw=None, n=n))
    kids.append(_f(f"{p}.list", Msg("value.count_certificates", n=len(entries)),
                   cert.list_span[0], cert.list_span[1], entries, raw=len(entries)))
    if not cert.entries:
        return kids, Msg("summary.certificate_none"), cert
    leaf = cert.entries[0].cert.value
    return kids, Msg("summary.certificate", subject=x509.short_name(leaf), issuer=x509.issuer_name(leaf),
                     n=len(cert.entries)), cert


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


def _certificate_verify(msg: bytes) -> tuple[list[Field], Msg, tr.CertificateVerify]:
    cv = tr.parse_certificate_verify(msg)
    p = "tls.certificate_verify"
    kids = _header_fields(msg) + [
        _fi(f"{p}.scheme", cv.scheme, names.label("signature_scheme", cv.scheme.value)),
        _fi(f"{p}.signature", cv.signature, hex_or_empty(cv.signature.value)),
    ]
    return kids, Msg("summary.certificate_verify", scheme=names.signature_scheme(cv.scheme.value),
                     n=len(cv.signature.value)), cv


def _finished(msg: bytes) -> tuple[list[Field], Msg, tr.Finished]:
    fin = tr.parse_finished(msg)
    kids = _header_fields(msg) + [_fi("tls.finished.verify_data", fin.verify_data,
                                      fin.verify_data.value.hex())]
    return kids, Msg("summary.finished", n=len(fin.verify_data.value)), fin


def _duration(seconds: int) -> Msg:
    if seconds and seconds % 86400 == 0:
        return Msg("value.seconds_days", s=seconds, d=seconds // 86400)
    if seconds and seconds % 3600 == 0:
        return Msg("value.seconds_hours", s=seconds, h=seconds // 3600)
    return Msg("value.seconds", s=seconds)


def _new_session_ticket(msg: bytes, tls13: bool | None) -> tuple[list[Field], Msg, tr.NewSessionTicket]:
    nst = _either(tls13, lambda v: tr.parse_new_session_ticket(msg, v))
    p = "tls.new_session_ticket"
    kids = _header_fields(msg) + [_fi(f"{p}.lifetime", nst.lifetime, _duration(nst.lifetime.value))]
    if nst.age_add is not None:
        kids.append(_fi(f"{p}.age_add", nst.age_add, str(nst.age_add.value)))
        kids.append(_fi(f"{p}.nonce", nst.nonce, hex_or_empty(nst.nonce.value)))
    kids.append(_fi(f"{p}.ticket", nst.ticket, hex_or_empty(nst.ticket.value)))
    if nst.extensions:
        s = nst.extensions[0].start - 2
        kids.append(_f("tls.extensions", Msg("value.count_extensions", n=len(nst.extensions)),
                       s, nst.extensions[-1].end,
                       [_describe_extension(e, msg, "new_session_ticket") for e in nst.extensions],
                       raw=[e.type for e in nst.extensions]))
    return kids, Msg("summary.new_session_ticket", n=len(nst.ticket.value),
                     lifetime=_duration(nst.lifetime.value)), nst


def _encrypted_extensions(msg: bytes) -> tuple[list[Field], Msg, tr.EncryptedExtensions]:
    ee = tr.parse_encrypted_extensions(msg)
    kids = _header_fields(msg)
    kids.append(_extensions_field(ee.extensions, ee.extensions_span, msg, "encrypted_extensions"))
    if not ee.extensions:
        return kids, Msg("summary.no_extensions"), ee
    alpn = next((tr.parse_extension_body(e, msg, "encrypted_extensions") for e in ee.extensions
                 if e.type == ET.application_layer_protocol_negotiation), None)
    return kids, Msg("summary.encrypted_extensions", names=[names.extension(e.type) for e in ee.extensions],
                     alpn=_text(alpn.items[0].value) if alpn and alpn.items else None), ee


def _certificate_request(msg: bytes, tls13: bool | None) -> tuple[list[Field], Msg, tr.CertificateRequest]:
    cr = _either(tls13, lambda v: tr.parse_certificate_request(msg, v))
    p = "tls.certificate_request"
    kids = _header_fields(msg)
    if cr.request_context is not None:
        kids.append(_fi(f"{p}.request_context", cr.request_context, hex_or_empty(cr.request_context.value)))
        if cr.extensions:
            s = cr.extensions[0].start - 2
            kids.append(_f("tls.extensions", Msg("value.count_extensions", n=len(cr.extensions)), s,
                           cr.extensions[-1].end,
                           [_describe_extension(e, msg, "certificate_request") for e in cr.extensions],
                           raw=[e.type for e in cr.extensions]))
        return kids, Msg("summary.certificate_request"), cr
    if cr.certificate_types:
        kids.append(_f(f"{p}.certificate_types",
                       Msg("value.list", items=[_word(_CERT_TYPES, i.value) for i in cr.certificate_types]),
                       cr.certificate_types[0].start - 1, cr.certificate_types[-1].end,
                       [_fi(f"{p}.type", i, _named(_CERT_TYPES, i.value)) for i in cr.certificate_types],
                       raw=[i.value for i in cr.certificate_types]))
    if cr.signature_algorithms:
        kids.append(_f(f"{p}.signature_algorithms", Msg("value.count_schemes", n=len(cr.signature_algorithms)),
                       cr.signature_algorithms[0].start - 2, cr.signature_algorithms[-1].end,
                       _int_children(f"{p}.scheme", cr.signature_algorithms,
                                     lambda c: names.label("signature_scheme", c)),
                       raw=[i.value for i in cr.signature_algorithms]))
    cas = [_fi(f"{p}.authority", a, hex_or_empty(a.value), n=n) for n, a in enumerate(cr.authorities, 1)]
    if cas:
        kids.append(_f(f"{p}.authorities", Msg("value.count_names", n=len(cas)),
                       cas[0].start - 2, cas[-1].end, cas, raw=len(cas)))
    return kids, Msg("summary.certificate_request"), cr


def _server_key_exchange(msg: bytes) -> tuple[list[Field], Msg, tr.ServerKeyExchange]:
    ske = tr.parse_server_key_exchange(msg)
    p = "tls.server_key_exchange"
    kids = _header_fields(msg) + [
        _fi(f"{p}.curve_type", ske.curve_type, "3 named_curve"),
        _fi(f"{p}.curve", ske.named_curve, names.label("group", ske.named_curve.value)),
        _fi(f"{p}.public_key", ske.public, hex_or_empty(ske.public.value)),
        _fi(f"{p}.scheme", ske.scheme, names.label("signature_scheme", ske.scheme.value)),
        _fi(f"{p}.signature", ske.signature, hex_or_empty(ske.signature.value)),
    ]
    return kids, Msg("summary.server_key_exchange", group=names.group(ske.named_curve.value),
                     scheme=names.signature_scheme(ske.scheme.value)), ske


def _client_key_exchange(msg: bytes) -> tuple[list[Field], Msg, tr.ClientKeyExchange]:
    cke = tr.parse_client_key_exchange(msg)
    kids = _header_fields(msg) + [_fi("tls.client_key_exchange.public_key", cke.public,
                                      hex_or_empty(cke.public.value))]
    return kids, Msg("summary.client_key_exchange", n=len(cke.public.value)), cke


def _empty(msg: bytes, what: str) -> tuple[list[Field], Msg, None]:
    r = tr.handshake_header(msg, None, what)
    r.done(f"{what} (its body is empty)")
    return _header_fields(msg), Msg(f"summary.{'server_hello_done' if what == 'ServerHelloDone' else 'end_of_early_data'}"), None


def _key_update(msg: bytes) -> tuple[list[Field], Msg, KeyUpdate]:
    r = tr.handshake_header(msg, HT.key_update, "KeyUpdate")
    r.rfc = "RFC 8446 §4.6.3"
    req = r.uint(1, "request_update")
    r.done("request_update")
    if req.value not in (0, 1):
        raise r.fail(f"request_update {req.value} is neither 0 nor 1", req.start,
                     code="tls.request_update", value=req.value)
    text = "1 update_requested" if req.value else "0 update_not_requested"
    return (_header_fields(msg) + [_fi("tls.key_update.request_update", req, text)],
            Msg("summary.key_update", asks=True if req.value else None), KeyUpdate(req))


def describe_handshake(msg: bytes, *, tls13: bool | None, from_client: bool) -> Described:
    """Describe one whole handshake message (type + 3-byte length + body): every byte
    in a leaf field, down to each length prefix and extension type the parser read."""
    with tr.layout() as spans:
        described = _describe_handshake(bytes(msg), tls13=tls13, from_client=from_client)
    top = described.fields[0]
    for s in spans:
        if s.kind == "length":
            leaf = _f("tls.length", Msg("value.length_prefix", n=s.value, what=_what(s.what)), s.start, s.end,
                      raw=s.value)
        else:
            leaf = _f("tls.ext.type", names.label("extension", s.value), s.start, s.end, raw=s.value)
        place(top.children, leaf)
    return described


#: The vectors a parser measures, by their names in the RFCs' structures.
_WHAT = {"protocol name": "ProtocolName", "public": "ECPoint", "binder": "PskBinderEntry",
         "binders": "OfferedPsks.binders", "identities": "OfferedPsks.identities",
         "identity": "PskIdentity.identity", "versions": "SupportedVersions.versions",
         "cookie": "Cookie.cookie", "signature": "DigitallySigned.signature",
         "ticket": "NewSessionTicket.ticket"}


def _what(what: str) -> str:
    if what in _WHAT:
        return _WHAT[what]
    if what.startswith("extension ") and what.endswith(" data"):
        return "Extension.extension_data"
    if what.endswith(" extensions"):
        head = what[:-len(" extensions")]
        return f"{head[:1].upper()}{head[1:]}.extensions"
    return what.replace(" ", "_")


def _describe_handshake(msg: bytes, *, tls13: bool | None, from_client: bool) -> Described:
    tr.handshake_header(msg)  # type present and length consistent
    t = msg[0]
    name = MESSAGE_NAMES.get(t, "Handshake")
    parsed: Any = None
    if t == HT.client_hello:
        kids, summary, parsed = _client_hello(msg)
    elif t == HT.server_hello:
        kids, summary, name, parsed = _server_hello(msg)
    elif t == HT.certificate:
        kids, summary, parsed = _certificate(msg, tls13)
    elif t == HT.certificate_verify:
        kids, summary, parsed = _certificate_verify(msg)
    elif t == HT.finished:
        kids, summary, parsed = _finished(msg)
    elif t == HT.new_session_ticket:
        kids, summary, parsed = _new_session_ticket(msg, tls13)
    elif t == HT.encrypted_extensions:
        kids, summary, parsed = _encrypted_extensions(msg)
    elif t == HT.certificate_request:
        kids, summary, parsed = _certificate_request(msg, tls13)
    elif t == HT.server_key_exchange:
        kids, summary, parsed = _server_key_exchange(msg)
    elif t == HT.client_key_exchange:
        kids, summary, parsed = _client_key_exchange(msg)
    elif t in (HT.server_hello_done, HT.end_of_early_data):
        kids, summary, parsed = _empty(msg, name)
    elif t == HT.key_update:
        kids, summary, parsed = _key_update(msg)
    else:
        kids = _header_fields(msg) + [_f("tls.handshake.body", hex_or_empty(msg[4:]), 4, len(msg))]
        summary = Msg("summary.handshake_other", type=t, name=names.handshake_type(t))
    mid = "hello_retry_request" if name == "HelloRetryRequest" else MESSAGE_IDS.get(t, "handshake")
    top = _f(f"tls.{mid}", summary, 0, len(msg), kids, raw=t, name=name if t in MESSAGE_NAMES else None)
    return Described(name, summary, [top], parsed)


# --- alert and change_cipher_spec ---------------------------------------------------


def describe_alert(payload: bytes) -> Described:
    """Describe a decrypted Alert record payload (level, description)."""
    al = tr.parse_alert(bytes(payload))
    level, desc = al.level.value, al.description.value
    kids = [_fi("tls.alert.level", al.level, names.label("alert_level", level)),
            _fi("tls.alert.description", al.description, names.label("alert", desc))]
    if desc == 0:
        summary = Msg("summary.alert_close_notify")
    elif desc == 90:
        summary = Msg("summary.alert_user_canceled")
    else:
        summary = Msg("summary.alert", level=Msg(f"alert_level.{level}") if level in (1, 2)
                      else names.alert_level(level), name=names.alert(desc))
    return Described("Alert", summary, [_f("tls.alert", summary, 0, 2, kids, raw=desc, name="Alert")], al)


def describe_ccs(payload: bytes, tls13: bool | None = None) -> Described:
    """Describe a ChangeCipherSpec record payload (the single byte 0x01)."""
    item = tr.parse_ccs(bytes(payload))
    if tls13:
        summary = Msg("summary.ccs_tls13")
    elif tls13 is False:
        summary = Msg("summary.ccs_tls12")
    else:
        summary = Msg("summary.ccs")
    kids = [_fi("tls.change_cipher_spec.type", item, "1 change_cipher_spec")]
    return Described("ChangeCipherSpec", summary,
                     [_f("tls.change_cipher_spec", summary, 0, 1, kids, raw=1, name="ChangeCipherSpec")],
                     item)
