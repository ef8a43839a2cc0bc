"""TLS, observed: records → handshake messages, alerts, keys and the certificate check.

``TLSLayer`` consumes the bytes of each direction as they arrive and returns
Steps.  It decrypts with the session's own key log (dissect/decrypt.py), keeps
the handshake transcript (for CertificateVerify), and hands decrypted
application data, with the record that carried each byte, to the layer above.

State, per connection:
  version   unknown → 1.3 or 1.2 once the ServerHello says so
  keys      per direction: none → handshake keys (1.3) → application keys
            (1.3: after each side's Finished; 1.2: after each ChangeCipherSpec)
  check     the certificate check waits until the client holds Certificate and
            CertificateVerify (1.3) or ServerHelloDone (1.2), and is shown when
            the client acts next (OpenSSL's verdict, or its next flight)
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Callable

from wssviz.capture import LAST_MOMENT, Capture
from wssviz.core import tls_records as tr
from wssviz.core.tls_records import ExtensionType as ET
from wssviz.dissect import decrypt, derive, names, x509
from wssviz.dissect.build import StepMaker, openssl_verify, record_fields, side
from wssviz.dissect.tls_messages import describe_alert, describe_ccs, describe_handshake
from wssviz.steps import Field, Msg, Step, computed

KIND_BY_TYPE = {
    1: "tls.client_hello", 2: "tls.server_hello", 4: "tls.new_session_ticket",
    8: "tls.encrypted_extensions", 11: "tls.certificate", 12: "tls.server_key_exchange",
    13: "tls.certificate_request", 14: "tls.server_hello_done", 15: "tls.certificate_verify",
    16: "tls.client_key_exchange", 20: "tls.finished",
}
SIDE = {"c2s": "client", "s2c": "server"}
OTHER = {"client": "server", "server": "client"}
TLS12, TLS13 = 0x0303, 0x0304


def sent(direction: str, what: Msg) -> Msg:
    """A summary of something that crossed: "client → server: <what>"."""
    return Msg("summary.sent", dir=Msg(f"dir.{direction}"), what=what)


def key_name(side_: str, phase: str, suite: str) -> Msg:
    """"the server handshake traffic key (TLS_AES_128_GCM_SHA256)", in words."""
    if phase == "write":  # TLS 1.2: one write key per side, no traffic secrets
        return Msg("value.write_key_name", side=side(side_), suite=suite)
    return Msg("value.key_name", side=side(side_), phase=Msg(f"phase.{phase}"), suite=suite)

AppSink = Callable[[str, bytes, bytes, float], list[Step]]


class _Direction:
    def __init__(self) -> None:
        self.buf = bytearray()
        self.offset = 0  # stream offset of buf[0]
        self.hs = tr.HandshakeBuffer()
        self.decryptor: decrypt.RecordDecryptor | None = None
        self.key_name: Msg | None = None  # which key decrypts this direction now
        self.key_id = ""  # the same as an id: "server_handshake", "client_write", ...
        self.pending: tuple[decrypt.RecordDecryptor, Msg, str] | None = None  # 1.2: after CCS
        self.records: dict[int, tuple[bytes, bool]] = {}  # tag -> (raw record, encrypted)
        self.undecryptable = 0
        self.warned = False
        self.wanted: tuple[str, str, str] | None = None  # a secret not yet in the key log:
        # (its key log label, the side, the phase)


class TLSLayer:
    def __init__(self, capture: Capture, maker: StepMaker, app: AppSink) -> None:
        self.capture = capture
        self.maker = maker
        self.app = app
        self.dirs = {"c2s": _Direction(), "s2c": _Direction()}
        self.tls13: bool | None = None
        self.suite: decrypt.Suite | None = None
        self.client_random = b""
        self.server_random = b""
        self.transcript: list[bytes] = []
        self.close_notify: set[str] = set()  # directions that sent close_notify
        self.server_chain: list[bytes] = []
        self.client_chain: list[bytes] = []  # mutual TLS: the client's certificates
        self.cv: dict | None = None  # signature scheme, signature, signed content
        self.check_pending = False
        self.check_done = False
        self.app_keys_pending = False
        self.retried = False  # a HelloRetryRequest was seen
        self.resuming = False  # the ServerHello accepted a pre-shared key
        self.ems_offered = False  # the ClientHello offered extended_master_secret
        self.ems = False  # ... and the ServerHello accepted it (RFC 7627)
        self.master_how: str = "master secret"  # how the TLS 1.2 master secret was made
        self.session_hash: bytes | None = None  # RFC 7627's session hash, when it was
        self.fatal_alert = False  # a fatal alert ended the session
        self.cert_problem: str | None = None  # the first check the certificate failed
        self.verdict: dict | None = None
        self._tag = 0
        self._decrypted: dict[int, tuple[Msg, str, decrypt.Decrypted]] = {}  # tag -> (key, id, result)
        self._keylog_len = -1
        self._keylog: decrypt.KeyLog | None = None

    # -- helpers ---------------------------------------------------------------

    @property
    def version(self) -> int | None:
        """The negotiated version (0x0304, 0x0303), None before the ServerHello."""
        return {True: TLS13, False: TLS12, None: None}[self.tls13]

    def _secrets(self) -> dict[str, bytes]:
        if len(self.capture.keylog) != self._keylog_len:
            self._keylog = decrypt.KeyLog.parse(self.capture.keylog, strict=False)
            self._keylog_len = len(self.capture.keylog)
        return self._keylog.secrets_for(self.client_random) if self._keylog else {}

    def _version_field(self) -> Field:
        v = self.version
        return computed("tls.version", names.version(v) if v else Msg("value.not_negotiated"), raw=v)

    def _facts(self, direction: str, **more: object) -> dict:
        """What every TLS step knows: the version, who sent it or computed it, the
        scenario's words that change what the step means."""
        facts: dict = {"tls_version": self.version, "sender": SIDE.get(direction, direction)}
        if self.cert_problem:
            facts["cert_problem"] = self.cert_problem
        facts.update({k: v for k, v in more.items() if v is not None})
        return facts

    # -- input -----------------------------------------------------------------

    def feed(self, direction: str, data: bytes, time: float) -> list[Step]:
        d = self.dirs[direction]
        d.buf += data
        steps: list[Step] = []
        if direction == "c2s":
            steps += self.client_acts(time)
        try:
            limit = tr.MAX_CIPHERTEXT_TLS12 if self.tls13 is False else tr.MAX_CIPHERTEXT
            records, tail = tr.split_records(bytes(d.buf), d.offset, limit)
        except tr.TLSFormatError as exc:
            steps.append(self._error("tls record", exc.msg, exc.rfc, exc.offset, SIDE[direction], time))
            d.offset += len(d.buf)
            d.buf.clear()
            return steps
        del d.buf[:tail - d.offset]
        d.offset = tail
        for rec in records:
            steps += self._record(direction, rec, time)
        return steps

    def on_verdict(self, value: dict, time: float) -> list[Step]:
        self.verdict = value
        if not value.get("ok", True):
            # The client refused the handshake: it never derives application keys.
            steps = self.cert_check(time)
            self.app_keys_pending = False
            return steps
        return self.client_acts(time)

    def client_acts(self, time: float) -> list[Step]:
        """The client has read the server's flight: it checks the certificate, then
        (TLS 1.3, after the server's Finished) derives the application keys."""
        steps = self.cert_check(time)
        if self.app_keys_pending:
            self.app_keys_pending = False
            steps += self._tls13_application_keys(time)
        return steps

    def finish(self, time: float) -> list[Step]:
        steps = self.client_acts(time)
        for direction, d in self.dirs.items():
            if d.buf:
                steps.append(self._error(
                    "tls record", Msg("rule.tls.ended_in_record", n=len(d.buf)),
                    "RFC 8446 §5.1", d.offset, SIDE[direction], time, status="warning"))
            if d.hs.pending:
                steps.append(self._error(
                    "tls handshake", Msg("rule.tls.ended_in_message"),
                    "RFC 8446 §4", d.offset, SIDE[direction], time, status="warning"))
        return steps

    # -- records ---------------------------------------------------------------

    def _record(self, direction: str, rec: tr.Record, time: float) -> list[Step]:
        d = self.dirs[direction]
        tag = self._tag
        self._tag += 1
        raw = rec.raw
        if rec.content_type == tr.ContentType.change_cipher_spec:
            d.records[tag] = (raw, False)
            return self._ccs(direction, raw, rec.fragment, time)
        if rec.content_type == tr.ContentType.alert and d.decryptor is not None and self.tls13:
            # TLS 1.3 protects records under outer type application_data; an alert with
            # outer type alert is in the clear (RFC 8446 Appendix A.1: the client still
            # sends with its handshake keys when it refuses the server's certificate
            # before its own Finished; OpenSSL writes that alert unprotected).
            d.records[tag] = (raw, False)
            step = self._alert(direction, raw, rec.fragment, time, encrypted=False)
            step.fields.insert(1, computed("tls.unused_key", d.key_name or Msg("value.none"), raw=d.key_id))
            step.facts["clear_alert_under_keys"] = True
            return [step]
        if d.decryptor is None and d.wanted is not None and rec.content_type == tr.ContentType.application_data:
            self._late_key(d)
        if d.decryptor is None:
            if rec.content_type == tr.ContentType.handshake:
                d.records[tag] = (raw, False)
                return self._handshake_bytes(direction, rec.fragment, tag, time)
            if rec.content_type == tr.ContentType.alert:
                return [self._alert(direction, raw, rec.fragment, time, encrypted=False)]
            return self._undecryptable(direction, raw, rec.start, time)
        try:
            out = d.decryptor.decrypt(rec.header, rec.fragment)
        except decrypt.DecryptError as exc:
            return [self._error("tls record", exc.msg, exc.rfc, rec.start + exc.offset, SIDE[direction], time,
                                wire=raw)]
        if out.content_type == tr.ContentType.handshake:
            # kept for the handshake message(s) it carries (their steps show it);
            # application data records are not kept: a long session would hold them all
            d.records[tag] = (raw, True)
            self._decrypted[tag] = (d.key_name, d.key_id, out)
            return self._handshake_bytes(direction, out.plaintext, tag, time)
        if out.content_type == tr.ContentType.alert:
            return [self._alert(direction, raw, out.plaintext, time, encrypted=True,
                                how=(d.key_name, d.key_id, out))]
        if out.content_type == tr.ContentType.application_data:
            return self.app(direction, out.plaintext, raw, time, (d.key_name, d.key_id, out))
        return [self._error("tls record", Msg("rule.tls.inner_content_type", type=out.content_type),
                            "RFC 8446 §5.2", rec.start, SIDE[direction], time, wire=raw)]

    def _undecryptable(self, direction: str, raw: bytes, offset: int, time: float) -> list[Step]:
        d = self.dirs[direction]
        d.undecryptable += 1
        if d.warned:
            return []
        d.warned = True
        return [self.maker.error(
            "tls record", Msg("rule.tls.no_key"), "RFC 8446 §5.2", offset, SIDE[direction], time,
            wire=raw, status="warning", action=Msg("action.shown_opaque"), title=Msg("title.no_key"),
            summary=sent(direction, Msg("summary.no_key")), blame=None)]

    # -- ChangeCipherSpec and alerts ------------------------------------------

    def _ccs(self, direction: str, raw: bytes, payload: bytes, time: float) -> list[Step]:
        d = self.dirs[direction]
        try:
            desc = describe_ccs(payload)
        except tr.TLSFormatError as exc:
            return [self._error("tls change_cipher_spec", exc.msg, exc.rfc, exc.offset, SIDE[direction], time,
                                wire=raw, data=payload)]
        fields = record_fields([raw], [False]) + [self._version_field()] + desc.fields
        title = Msg("title.message", name="ChangeCipherSpec")
        if self.tls13:
            return [self.maker.make("tls.change_cipher_spec", direction, title,
                                    sent(direction, Msg("summary.ccs_tls13")), wire=raw, data=payload,
                                    fields=fields, time=time, facts=self._facts(direction))]
        before: list[Step] = []
        if d.pending is None and d.decryptor is None and self.tls13 is False:
            # An abbreviated (resumed) TLS 1.2 handshake has no ClientKeyExchange:
            # the master secret is the resumed session's, and the keys exist now.
            before = self._tls12_keys(time, resumed=True)
        if d.pending:
            d.decryptor, d.key_name, d.key_id = d.pending
            d.pending = None
        return before + [self.maker.make("tls.change_cipher_spec", direction, title,
                                         sent(direction, Msg("summary.ccs_tls12")), wire=raw, data=payload,
                                         fields=fields, time=time, facts=self._facts(direction))]

    def _alert(self, direction: str, raw: bytes, payload: bytes, time: float, *, encrypted: bool,
               how: tuple | None = None) -> Step:
        try:
            desc = describe_alert(payload)
        except tr.TLSFormatError as exc:
            return self._error("tls alert", exc.msg, exc.rfc, exc.offset, SIDE[direction], time,
                               wire=raw, data=payload)
        fields = record_fields([raw], [encrypted], self.suite) + [self._version_field()]
        if how:
            fields.append(self.decrypted_field(*how))
        fields += desc.fields
        level, description = desc.parsed.level.value, desc.parsed.description.value
        if level == 2:
            self.fatal_alert = True
        if description == 0:
            self.close_notify.add(direction)
        status = "ok" if description == 0 else ("error" if level == 2 else "warning")
        return self.maker.make("tls.alert", direction, Msg("title.alert", name=names.alert(description)),
                               sent(direction, desc.summary), wire=raw, data=payload,
                               fields=fields, status=status, time=time,
                               facts=self._facts(direction, encrypted=encrypted))

    def decrypted_field(self, key: Msg | None, key_id: str, out: "decrypt.Decrypted") -> Field:
        f = computed("tls.decrypted", Msg("value.decrypted_with", key=key, seq=out.seq), raw=key_id)
        f.add(computed("tls.decrypted.seq", str(out.seq), raw=out.seq))
        tls13 = self.tls13 is not False
        opening = derive.record_opening(out, tls13)
        for g in opening[:2 if out.explicit_nonce else 1]:
            f.add(g)  # the IV (and explicit nonce) the nonce is made from
        f.add(computed("tls.decrypted.nonce", out.nonce.hex(), raw=out.nonce))
        for g in opening[2 if out.explicit_nonce else 1:]:
            f.add(g)  # additional data, tag
        if out.padding:
            f.add(computed("tls.decrypted.padding", Msg("value.zero_bytes", n=out.padding), raw=out.padding))
        if tls13:  # TLS 1.2 has no inner type: the record header's type is the content's
            f.add(computed("tls.decrypted.inner_content_type", names.label("content_type", out.content_type),
                           raw=out.content_type))
        return f

    # -- handshake messages ----------------------------------------------------

    def _handshake_bytes(self, direction: str, plaintext: bytes, tag: int, time: float) -> list[Step]:
        d = self.dirs[direction]
        steps: list[Step] = []
        try:
            messages = d.hs.feed(plaintext, tag)
        except tr.TLSFormatError as exc:
            return [self._error("tls handshake", exc.msg, exc.rfc, exc.offset, SIDE[direction], time)]
        for msg, tags in messages:
            steps += self._message(direction, msg, tags, time)
        return steps

    def _message(self, direction: str, msg: bytes, tags: list[int], time: float) -> list[Step]:
        d = self.dirs[direction]
        mtype = msg[0]
        try:
            desc = describe_handshake(msg, tls13=self.tls13, from_client=direction == "c2s")
        except tr.TLSFormatError as exc:
            return [self._error("tls handshake", exc.msg, exc.rfc, exc.offset, SIDE[direction], time,
                                data=msg)]
        parsed = desc.parsed
        kind = KIND_BY_TYPE.get(mtype)
        steps: list[Step] = []
        after: list[Step] = []
        facts: dict = {}

        if mtype == 1:
            if not self.client_random:
                self.client_random = parsed.random.value
            self.ems_offered = parsed.extension(ET.extended_master_secret) is not None
            self.transcript.append(msg)
            if self.retried:
                desc.fields.insert(0, computed("tls.client_hello.attempt", Msg("value.attempt_retry", n=2),
                                               raw=2))
                facts["retry"] = True
            if parsed.extension(ET.pre_shared_key) is not None:
                facts["resumption"] = True
            if parsed.extension(ET.extended_master_secret) is not None:
                facts["ems"] = True
            sv = parsed.extension(ET.supported_versions)
            facts["offers_tls13"] = sv is not None and b"\x03\x04" in sv.body[1:]
        elif mtype == 2:
            if parsed.is_hrr:
                kind = "tls.hello_retry_request"
                self.tls13 = True  # HelloRetryRequest exists only in TLS 1.3 (RFC 8446 §4.1.4)
                self.retried = True
                first = self.transcript[0] if self.transcript else b""
                h = self._hash_name(parsed.cipher_suite.value)
                digest = hashlib.new(h, first).digest()
                self.transcript = [bytes([254, 0, 0, len(digest)]) + digest, msg]
            else:
                self.server_random = parsed.random.value
                self.tls13 = tr.selected_version(parsed) == TLS13
                self.suite = decrypt.SUITES.get(parsed.cipher_suite.value)
                self.resuming = parsed.extension(ET.pre_shared_key) is not None
                self.ems = self.ems_offered and parsed.extension(ET.extended_master_secret) is not None
                if self.resuming:
                    facts["resumption"] = True
                if self.ems and not self.tls13:
                    facts["ems"] = True
                self.transcript.append(msg)
        else:
            self.transcript.append(msg)

        records = []
        for t in dict.fromkeys(tags):
            raw, enc = d.records.get(t, (b"", False))
            records.append((raw, enc, t))
        wire = b"".join(r[0] for r in records)
        fields = record_fields([r[0] for r in records], [r[1] for r in records], self.suite)
        fields.append(self._version_field())
        for raw, enc, t in records:
            if enc and t in self._decrypted:
                fields.append(self.decrypted_field(*self._decrypted[t]))
                break
        fields += desc.fields
        status = "ok"
        check = self._check(direction, mtype, msg, parsed)
        if check is not None:
            fields.append(check)
            if check.raw is False:
                status = "error"
        summary = sent(direction, desc.summary)
        title = Msg("title.message", name=desc.name)
        if mtype == 20:
            title = Msg("title.finished", side=side(SIDE[direction]))
        if kind is None:
            steps.append(self.maker.error(
                "tls handshake", Msg("rule.tls.unshown_type", type=mtype, name=names.handshake_type(mtype)),
                "RFC 8446 §4", 0, OTHER[SIDE[direction]], time, action=Msg("action.skipped"),
                wire=wire, data=msg, status="warning", extra=fields, blame=None))
        else:
            steps.append(self.maker.make(kind, direction, title, summary, wire=wire, data=msg, fields=fields,
                                         status=status, time=time, facts=self._facts(direction, **facts)))

        # state changes that follow the message
        if mtype == 2 and not parsed.is_hrr and self.tls13:
            after += self._tls13_handshake_keys(time)
        elif mtype == 11 and direction == "s2c":
            self.server_chain = [e.cert.value for e in parsed.entries]
        elif mtype == 11 and direction == "c2s":
            self.client_chain = [e.cert.value for e in parsed.entries]
        elif mtype == 15 and direction == "s2c":
            self.cv = {"scheme": parsed.scheme.value, "signature": parsed.signature.value,
                       "transcript": list(self.transcript[:-1])}
            self.check_pending = bool(self.server_chain)
        elif mtype == 12 and direction == "s2c":
            self.cv = {"scheme": parsed.scheme.value, "signature": parsed.signature.value,
                       "content": self.client_random + self.server_random + parsed.params.value}
        elif mtype == 14 and direction == "s2c" and self.server_chain:
            self.check_pending = True
        elif mtype == 16 and direction == "c2s":
            after += self._tls12_keys(time)
        elif mtype == 20 and self.tls13:
            if direction == "s2c":
                self._server_application_keys()
                self.app_keys_pending = True
            else:
                after += self.client_acts(time)
                self._activate_pending("c2s")
        return steps + after

    # -- checks written out ------------------------------------------------------

    def _check(self, direction: str, mtype: int, msg: bytes, parsed: object) -> Field | None:
        """Finished and CertificateVerify (ServerKeyExchange in TLS 1.2) recomputed and
        checked from this session's secrets and certificates; None when there is
        nothing to check, or not enough to check it with (a missing secret)."""
        if self.suite is None:
            return None
        before = self.transcript[:-1]  # every handshake message before this one
        try:
            if mtype == 20:
                received = msg[4:]
                if self.tls13:
                    label = ("CLIENT_HANDSHAKE_TRAFFIC_SECRET" if direction == "c2s"
                             else "SERVER_HANDSHAKE_TRAFFIC_SECRET")
                    base = self._secrets().get(label)
                    return derive.finished13(label, base, self.suite, before, received) if base else None
                master = self._secrets().get("CLIENT_RANDOM")
                return (derive.finished12(master, self.suite, before, received, direction == "c2s")
                        if master else None)
            if mtype == 15 and self.tls13:
                chain = self.server_chain if direction == "s2c" else self.client_chain
                if chain:
                    return derive.certificate_verify(chain[0], parsed.scheme.value, parsed.signature.value,
                                                     before, self.suite.hash, server=direction == "s2c")
            if mtype == 12 and direction == "s2c" and self.server_chain:
                return derive.server_key_exchange(self.server_chain[0], parsed.scheme.value, parsed.signature.value,
                                                  self.client_random + self.server_random + parsed.params.value)
        except (ValueError, AttributeError):
            return None
        return None

    # -- keys ------------------------------------------------------------------

    @staticmethod
    def _hash_name(suite_code: int | None) -> str:
        s = decrypt.SUITES.get(suite_code) if suite_code is not None else None
        return s.hash if s else "sha256"

    def _activate_pending(self, direction: str) -> None:
        d = self.dirs[direction]
        if d.pending:
            d.decryptor, d.key_name, d.key_id = d.pending
            d.pending = None

    def _keys_step(self, phase: str, time: float, secrets: list[tuple[str, bytes]],
                   derived: list[tuple[str, "decrypt.TrafficKeys"]], missing: list[str],
                   how: list[Field] | None = None) -> Step:
        """``phase``: ``handshake``, ``application`` (TLS 1.3) or ``master_secret`` (TLS 1.2);
        ``derived``: (``client_handshake``, keys), ...; ``missing``: key log labels."""
        fields = [computed("tls.keys.phase", Msg(f"phase.{phase}"), raw=phase), self._version_field()]
        if self.suite:
            fields.append(computed("tls.keys.cipher_suite", f"0x{self.suite.code:04x} {self.suite.name}",
                                   raw=self.suite.code))
        lines = []
        for label, secret in secrets:
            if label == "CLIENT_RANDOM":
                # the key log names the 48-byte master secret by the client random it belongs to
                # the key log names the 48-byte master secret by the client random it
                # belongs to; the premaster secret it was made from is not in the log
                msg = {"resumed": "value.ms_resumed", "extended master secret": "value.ms_ems"}.get(
                    self.master_how, "value.ms_plain")
                kids = [computed("tls.keys.master_secret.how", Msg(msg), raw=self.master_how)]
                if self.session_hash is not None:
                    kids.append(computed("tls.keys.master_secret.session_hash", self.session_hash.hex(),
                                         raw=self.session_hash))
                fields.append(computed("tls.keys.master_secret", secret.hex(), kids, raw=secret))
            else:
                fields.append(computed("tls.keys.secret", secret.hex(), raw=secret, name=label))
            lines.append(f"{label} {self.client_random.hex()} {secret.hex()}")
        for name, keys in derived:
            fields.append(computed(f"tls.keys.{name}_key", keys.key.hex(), raw=keys.key))
            fields.append(computed(f"tls.keys.{name}_iv", keys.iv.hex(), raw=keys.iv))
        if missing:
            fields.append(computed("tls.keys.missing", Msg("value.list", items=missing), raw=list(missing)))
        fields += how or []  # each derivation, written out
        pos = 0
        for (label, secret), line in zip(secrets, lines):  # the key log lines the keys come from
            parts = [(f"tls.keys.keylog_label", label, label), ("tls.keys.sp", "SP", " "),
                     ("tls.keys.client_random", self.client_random.hex(), self.client_random),
                     ("tls.keys.sp", "SP", " "), ("tls.keys.keylog_secret", secret.hex(), secret),
                     ("tls.keys.newline", "LF", "\n")]
            f = Field("tls.keys.keylog_line", Msg("value.keylog_line", label=label), pos, pos + len(line) + 1,
                      "data", raw=label)
            at = pos
            for pid, value, raw in parts:
                n = len(raw) * 2 if isinstance(raw, bytes) else len(raw)
                f.add(Field(pid, value, at, at + n, "data", raw=raw))
                at += n
            fields.append(f)
            pos += len(line) + 1
        # OpenSSL derives the client's handshake *sending* key only when the client next
        # sends: a client-side key log may not hold it yet.  Not a fault; it is picked
        # up when the client's first encrypted record arrives.
        late_client = missing == ["CLIENT_HANDSHAKE_TRAFFIC_SECRET"]
        summary = Msg("summary.keys", what=Msg(f"keys.what_{phase}"), late=True if late_client else None,
                      missing=missing if missing and not late_client else None)
        return self.maker.make("tls.keys", "client", Msg(f"title.keys_{phase}"), summary,
                               data="\n".join(lines).encode() + (b"\n" if lines else b""),
                               fields=fields, status="warning" if missing and not late_client else "ok",
                               time=time, facts=self._facts("client", phase=phase,
                                                            ems=True if self.ems and phase == "master_secret"
                                                            else None,
                                                            both_sides=True if phase != "master_secret" else None))

    def _tls13_handshake_keys(self, time: float) -> list[Step]:
        return self._tls13_keys("handshake", "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
                                "SERVER_HANDSHAKE_TRAFFIC_SECRET", time, activate_client=True)

    def _tls13_application_keys(self, time: float) -> list[Step]:
        return self._tls13_keys("application", "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0",
                                time, activate_client=False)

    def _late_key(self, d: "_Direction") -> None:
        """A secret that was missing when its keys came to exist may be in the key log now."""
        label, side_, phase = d.wanted
        secret = self._secrets().get(label)
        if secret is not None and self.suite is not None:
            d.decryptor = decrypt.RecordDecryptor(self.suite, decrypt.tls13_traffic_keys(self.suite, secret))
            d.key_name, d.key_id = key_name(side_, phase, self.suite.name), f"{side_}_{phase}"
            d.wanted = None

    def _server_application_keys(self) -> None:
        """After its Finished the server may send at once: switch s2c quietly."""
        secret = self._secrets().get("SERVER_TRAFFIC_SECRET_0")
        if secret is not None and self.suite is not None:
            keys = decrypt.tls13_traffic_keys(self.suite, secret)
            d = self.dirs["s2c"]
            d.decryptor = decrypt.RecordDecryptor(self.suite, keys)
            d.key_name, d.key_id = key_name("server", "application", self.suite.name), "server_application"

    def _tls13_keys(self, phase: str, client_label: str, server_label: str, time: float,
                    *, activate_client: bool) -> list[Step]:
        secrets = self._secrets()
        found, derived, missing, how = [], [], [], []
        for side_, label, direction in (("client", client_label, "c2s"), ("server", server_label, "s2c")):
            secret = secrets.get(label)
            if secret is None or self.suite is None:
                missing.append(label)
                if self.suite is not None:
                    self.dirs[direction].wanted = (label, side_, phase)
                continue
            keys = decrypt.tls13_traffic_keys(self.suite, secret)
            found.append((label, secret))
            derived.append((f"{side_}_{phase}", keys))
            how.append(derive.traffic_keys(side_, phase, label, secret, self.suite))
            dec = decrypt.RecordDecryptor(self.suite, keys)
            name, kid = key_name(side_, phase, self.suite.name), f"{side_}_{phase}"
            if direction == "s2c" and phase == "application" and self.dirs["s2c"].key_id == kid:
                continue  # already switched at the server's Finished; keep its sequence number
            if direction == "s2c" or activate_client:
                d = self.dirs[direction]
                d.decryptor, d.key_name, d.key_id = dec, name, kid
            else:
                self.dirs[direction].pending = (dec, name, kid)
        return [self._keys_step(phase, time, found, derived, missing, how)]

    def _tls12_keys(self, time: float, resumed: bool = False) -> list[Step]:
        secrets = self._secrets()
        master = secrets.get("CLIENT_RANDOM")
        if master is None or self.suite is None:
            why = "CLIENT_RANDOM" if master is None else "a cipher suite wssviz can decrypt"
            return [self._keys_step("master_secret", time, [], [], [why])]
        ckeys, skeys = decrypt.tls12_key_block(self.suite, master, self.client_random, self.server_random)
        for side_, keys, direction in (("client", ckeys, "c2s"), ("server", skeys, "s2c")):
            self.dirs[direction].pending = (decrypt.RecordDecryptor(self.suite, keys),
                                            key_name(side_, "write", self.suite.name), f"{side_}_write")
        # RFC 7627 §3: the session hash covers the handshake up to ClientKeyExchange; a
        # resumed session's master secret was made in the handshake that created it
        self.session_hash = (hashlib.new(self.suite.hash, b"".join(self.transcript)).digest()
                             if self.ems and not resumed else None)
        self.master_how = ("resumed" if resumed else "extended master secret" if self.ems else "master secret")
        how = [derive.key_block12(master, self.suite, self.client_random, self.server_random)]
        return [self._keys_step("master_secret", time, [("CLIENT_RANDOM", master)],
                                [("client_write", ckeys), ("server_write", skeys)], [], how)]

    # -- the certificate check -------------------------------------------------

    def cert_check(self, time: float) -> list[Step]:
        if not self.check_pending or self.check_done:
            return []
        self.check_pending = False
        self.check_done = True
        at = dt.datetime.fromtimestamp(min(max(self.capture.started, 0.0), LAST_MOMENT), dt.timezone.utc)
        checks = x509.check_chain(self.server_chain, self.capture.trust, self.capture.server_name, at)
        if self.cv and self.server_chain:
            if "transcript" in self.cv:
                h = self._hash_name(self.suite.code if self.suite else None)
                digest = hashlib.new(h, b"".join(self.cv["transcript"])).digest()
                content = x509.tls13_certificate_verify_content(digest, server=True)
                what = "CertificateVerify"
            else:
                content = self.cv["content"]
                what = "ServerKeyExchange"
            sig = x509.verify_signature(self.server_chain[0], self.cv["scheme"], self.cv["signature"], content)
            checks.append(x509.Check("proof_of_key", sig.ok, Msg("check.proof", what=what, result=sig.detail)))
        # An imported capture does not say what its client trusted; a live client does
        # (its ``trust_source``), even when none of its anchors matched.
        unanchored = not self.capture.trust and not self.capture.settings.get("trust_source")
        if unanchored:
            checks = [c for c in checks if c.name != "chain"]
        ours_ok = all(c.ok for c in checks)
        fields = [self._version_field()]
        if unanchored:
            fields.append(computed("tls.cert_check.chain", Msg("value.chain_not_judged"), raw=None))
        for c in checks:
            fields.append(computed(f"tls.cert_check.{c.name}", Msg("value.check", ok=c.ok, detail=c.detail),
                                   raw=c.ok))
        status = "ok" if ours_ok and not unanchored else "warning" if ours_ok else "error"
        unchecked = bool(self.verdict and self.verdict.get("insecure"))
        if self.verdict is not None:
            v = self.verdict
            if unchecked:
                ossl: Msg = Msg("value.openssl_insecure")
                status = "ok" if ours_ok else "warning"
            else:
                ossl = (Msg("value.openssl_ok") if v.get("ok")
                        else Msg("value.openssl_failed", message=openssl_verify(v.get("code"), v.get("message")),
                                 code=v.get("code")))
                if bool(v.get("ok")) != ours_ok:
                    status = "warning" if ours_ok is False else "error"
                    fields.append(computed("tls.cert_check.disagreement", Msg("value.disagreement"), raw=True))
            fields.append(computed("tls.cert_check.openssl", ossl,
                                   raw=None if unchecked else bool(v.get("ok"))))
        failed = [c for c in checks if not c.ok]
        if failed:
            self.cert_problem = failed[0].name
        problems = [Msg("check.named", name=Msg(f"check_name.{c.name}"), detail=c.detail) for c in failed]
        if ours_ok and unanchored:
            outcome = "unanchored"
        elif ours_ok:
            outcome = "ok"
        elif unchecked:
            outcome = "insecure"
        else:
            outcome = "refused"
        fields.insert(1, computed("tls.cert_check.verdict", Msg(f"verdict.{outcome}"), raw=outcome))
        if self.server_chain:
            fields.insert(2, computed("tls.cert_check.issuer", x509.issuer_name(self.server_chain[0]),
                                      raw=x509.issuer_name(self.server_chain[0])))
        summary = Msg(f"summary.cert_check_{outcome}", problems=problems or None)
        pos = 0
        for n, der in enumerate(self.server_chain, 1):  # what the checks took in: the chain
            try:
                kids = x509.certificate_fields(der, base=pos)
            except (tr.TLSFormatError, ValueError):
                kids = []
            fields.append(Field("tls.cert_check.certificate", x509.short_name(der) if kids else Msg("value.bytes", n=len(der)),
                                pos, pos + len(der), "data", kids, raw=n, n=n))
            pos += len(der)
        return [self.maker.make("tls.cert_check", "client",
                                Msg("title.cert_check_failed" if failed else "title.cert_check"), summary,
                                data=b"".join(self.server_chain), fields=fields, status=status, time=time,
                                facts=self._facts("client", outcome=outcome,
                                                  failed=[c.name for c in failed] or None))]

    # -- errors ----------------------------------------------------------------

    def _error(self, layer: str, rule: Msg, rfc: str, offset: int, by: str, time: float, *,
               wire: bytes = b"", data: bytes = b"", status: str = "error") -> Step:
        # ``by`` sent the offending bytes; the side reading them notices
        return self.maker.error(layer, rule, rfc, offset, OTHER[by], time, blame=by, wire=wire, data=data,
                                status=status, action=Msg("action.skip_stream"))
