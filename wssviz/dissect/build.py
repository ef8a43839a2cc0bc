"""Small helpers the dissectors share to make Steps and Fields.

Every step and field is data (``wssviz.steps``): an id and a raw value for code, and
a ``Msg`` (or a literal) for people.  The words themselves live in the catalogs
(``wssviz/explain/<lang>.toml``); the keys used here are listed there.
"""

from __future__ import annotations

import re
from typing import Any

from wssviz.steps import Field, Msg, Step, computed

SIDES = ("client", "server")


def side(name: str) -> Msg:
    """``client`` or ``server`` as a word in the learner's language."""
    return Msg(f"side.{name}")


def nbytes(n: int) -> Msg:
    """"1 byte", "5 bytes"."""
    return Msg("value.bytes", n=n)


def elide(data: bytes, limit: int = 32) -> str | Msg:
    """Hex of ``data``, cut to ``limit`` bytes with the full length said."""
    if len(data) <= limit:
        return data.hex()
    return Msg("value.hex_cut", hex=data[:limit].hex(), n=len(data))


def hex_or_empty(data: bytes, limit: int = 48, cut: int = 32) -> str | Msg:
    """Hex of ``data``; the word "empty" for none; the first ``cut`` bytes and the
    whole length when it is longer than ``limit``."""
    if not data:
        return Msg("value.empty")
    if len(data) <= limit:
        return data.hex()
    return Msg("value.hex_cut", hex=data[:cut].hex(), n=len(data))


def text_preview(text: str, limit: int = 80) -> str | Msg:
    """A peer's text for a one-line summary: control characters shown, long text cut
    (the cut says how long the whole text is, in the learner's language)."""
    shown = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    if len(shown) <= limit:
        return shown
    return Msg("value.text_cut", text=shown[:limit], n=len(text))


#: OpenSSL's certificate verification results (X509_V_ERR_*) that the catalogs put into
#: words (``openssl.verify_<code>``); others keep OpenSSL's own English, quoted.
OPENSSL_VERIFY_CODES = frozenset({2, 7, 9, 10, 18, 19, 20, 21, 24, 26, 62})


def openssl_verify(code: object, message: object) -> Msg:
    """OpenSSL's verdict on a certificate, in the learner's language where it is a
    result we know (``code`` is X509_V_ERR_*; ``message`` OpenSSL's English)."""
    if isinstance(code, int) and code in OPENSSL_VERIFY_CODES:
        return Msg(f"openssl.verify_{code}")
    return Msg("value.library_words", text=str(message or ""))


def slug(value: str) -> str:
    """A catalog key part from an identifier-like word: ``"tls record"`` → ``tls_record``."""
    return "_".join(re.findall(r"[a-z0-9]+", value.lower()))


def split_records(wire: bytes) -> list[bytes]:
    """The TLS records of ``wire`` (whole records, as a step's wire holds them)."""
    out, pos = [], 0
    while pos + 5 <= len(wire):
        end = pos + 5 + int.from_bytes(wire[pos + 3:pos + 5], "big")
        out.append(wire[pos:end])
        pos = end
    if pos < len(wire):
        out.append(wire[pos:])
    return out


def record_fields(records: list[bytes], encrypted: list[bool], suite: Any = None) -> list[Field]:
    """One ``tls.record`` field per TLS record, with spans into the step's ``wire``.
    An encrypted record's payload is split, when the cipher suite is known (``suite``,
    a ``decrypt.Suite``), into the explicit nonce (TLS 1.2 GCM), the ciphertext (which
    holds the content, and in TLS 1.3 its real type and any padding) and the AEAD tag."""
    from wssviz.dissect import names

    out, pos = [], 0
    for raw, enc in zip(records, encrypted):
        ctype, version, length = raw[0], int.from_bytes(raw[1:3], "big"), int.from_bytes(raw[3:5], "big")
        f = Field("tls.record", Msg("value.record", type=names.content_type(ctype), n=length,
                                    encrypted=enc or None),
                  pos, pos + len(raw), "wire", raw=ctype)
        f.add(Field("tls.record.content_type", names.label("content_type", ctype), pos, pos + 1, "wire",
                    raw=ctype))
        f.add(Field("tls.record.version", names.label("version", version), pos + 1, pos + 3, "wire",
                    raw=version))
        f.add(Field("tls.record.length", str(length), pos + 3, pos + 5, "wire", raw=length))
        if enc:
            at, end = pos + 5, pos + len(raw)
            payload = f.add(Field("tls.record.encrypted_payload", elide(raw[5:], 16), at, end, "wire"))
            if suite is not None and len(raw) >= 5 + suite.explicit_nonce_len + suite.tag_len:
                n = suite.explicit_nonce_len
                if n:
                    payload.add(Field("tls.record.explicit_nonce", raw[5:5 + n].hex(), at, at + n, "wire",
                                      raw=raw[5:5 + n]))
                body = raw[5 + n:len(raw) - suite.tag_len]
                payload.add(Field("tls.record.ciphertext", elide(body, 16), at + n, end - suite.tag_len, "wire"))
                payload.add(Field("tls.record.tag", raw[-suite.tag_len:].hex(), end - suite.tag_len, end, "wire",
                                  raw=raw[-suite.tag_len:]))
        else:
            f.add(Field("tls.record.fragment", elide(raw[5:], 16), pos + 5, pos + len(raw), "wire"))
        out.append(f)
        pos += len(raw)
    return out


def place(fields: list[Field], leaf: Field) -> None:
    """Put ``leaf`` into the deepest field of ``fields`` whose span holds it (same
    ``of``), among its siblings in byte order; at the top if none holds it.  A leaf
    whose bytes some leaf already labels is left out."""
    for f in fields:
        if f.of == leaf.of and f.start <= leaf.start and leaf.end <= f.end and (f.start, f.end) != (leaf.start, leaf.end):
            if f.children:
                place(f.children, leaf)
                return
            return  # a leaf already says what these bytes are
        if f.of == leaf.of and (f.start, f.end) == (leaf.start, leaf.end) and not f.children:
            return
    at = next((i for i, f in enumerate(fields) if f.of == leaf.of and f.start >= leaf.end), len(fields))
    fields.insert(at, leaf)


def rule_field(rule: Msg | str, code: str | None) -> Field:
    """The broken rule: a catalog message (a literal from an old recording)."""
    return computed("error.rule", rule, raw=code)


class StepMaker:
    """Numbers steps in the order the learner meets them."""

    def __init__(self, skim: bool = False) -> None:
        self.count = 0
        #: Outlines only (``Dissector(skim=True)``): the hot path (WebSocket frames)
        #: makes steps without fields, wire or data, for an index of a long session.
        self.skim = skim

    def make(self, kind: str, direction: str, title: Msg, summary: Msg, *, wire: bytes = b"",
             data: bytes = b"", fields: list[Field] | None = None, status: str = "ok",
             time: float = 0.0, facts: dict[str, Any] | None = None) -> Step:
        step = Step(self.count, kind, direction, title, summary, wire, data, fields or [], status,
                    time, facts or {})
        self.count += 1
        return step

    def error(self, layer: str, rule: Msg | str, rfc: str, offset: int | None, by: str, time: float, *,
              action: Msg | str, blame: str | None = None, wire: bytes = b"", data: bytes = b"",
              status: str = "error", title: Msg | None = None, summary: Msg | None = None,
              extra: list[Field] | None = None, code: str | None = None,
              facts: dict[str, Any] | None = None) -> Step:
        """An ``error`` step: which layer, which rule (RFC section), where, who noticed
        it (``by``), who broke it (``blame``, when known), and what ``by`` did about it
        (docs/architecture.md §5, §6).  The step sits on the side that noticed.

        ``layer`` is a word (``tls record``, ``ws``…); ``rule`` and ``action`` are
        Msgs (literals only from old recordings); ``code`` is the rule's id (the
        ``rule.<code>`` key without its prefix), which explanations can choose by."""
        layer_id = slug(layer)
        if code is None and isinstance(rule, Msg) and rule.key.startswith("rule."):
            code = rule.key[5:]
        offset_value: str | Msg = str(offset) if isinstance(offset, int) and offset >= 0 else Msg("value.none")
        fields = [computed("error.layer", Msg(f"layer.{layer_id}"), raw=layer_id),
                  rule_field(rule, code),
                  computed("error.rfc", rfc, raw=rfc),
                  computed("error.offset", offset_value,
                           raw=offset if isinstance(offset, int) and offset >= 0 else None),
                  computed("error.by", side(by) if by in SIDES else by, raw=by)]
        if blame:
            fields.append(computed("error.broken_by", side(blame) if blame in SIDES else blame, raw=blame))
        action_code = action.key.removeprefix("action.") if isinstance(action, Msg) else None
        fields.append(computed("error.action", action, raw=action_code))
        direction = by if by in SIDES else "client"
        where = offset if isinstance(offset, int) and offset >= 0 else None
        return self.make("error", direction, title or Msg("title.error", layer=Msg(f"layer.{layer_id}")),
                         summary or Msg("summary.error", by=side(direction), rule=rule, rfc=rfc,
                                        offset=where),
                         wire=wire, data=data, fields=fields + (extra or []), status=status, time=time,
                         facts=facts)
