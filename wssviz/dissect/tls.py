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

from wssviz.capture import Capture
from wssviz.core import tls_records as tr
from wssviz.dissect import decrypt, names, x509
from wssviz.dissect.build import StepMaker, record_fields
from wssviz.dissect.tls_messages import describe_alert, describe_ccs, describe_handshake
from wssviz.steps import Field, Step, computed

KIND_BY_TYPE = {
    1: "tls.client_hello", 2: "tls.server_hello", 4: "tls.new_session_ticket",
    8: "tls.encrypted_extensions", 11: "tls.certificate", 12: "tls.server_key_exchange",
    13: "tls.certificate_request", 14: "tls.server_hello_done", 15: "tls.certificate_verify",
    16: "tls.client_key_exchange", 20: "tls.finished",
}
SIDE = {"c2s": "client", "s2c": "server"}
OTHER = {"client": "server", "server": "client"}
ARROW = {"c2s": "client → server", "s2c": "server → client"}

AppSink = Callable[[str, bytes, bytes, float], list[Step]]


class _Direction:
    def __init__(self) -> None:
        self.buf = bytearray()
        self.offset = 0  # stream offset of buf[0]
        self.hs = tr.HandshakeBuffer()
        self.decryptor: decrypt.RecordDecryptor | None = None
        self.key_name = ""  # which key decrypts this direction now
        self.pending: tuple[decrypt.RecordDecryptor, str] | None = None  # 1.2: after CCS
        self.records: dict[int, tuple[bytes, bool]] = {}  # tag -> (raw record, encrypted)
        self.undecryptable = 0
        self.warned = False
        self.wanted: tuple[str, str, bool] | None = None  # a secret not yet in the key log


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
        self.server_chain: list[bytes] = []
        self.cv: dict | None = None  # signature scheme, signature, signed content
        self.check_pending = False
        self.check_done = False
        self.app_keys_pending = False
        self.retried = False  # a HelloRetryRequest was seen
        self.fatal_alert = False  # a fatal alert ended the session
        self.verdict: dict | None = None
        self._tag = 0
        self._decrypted: dict[int, tuple[str, decrypt.Decrypted]] = {}  # tag -> (key name, result)
        self._keylog_len = -1
        self._keylog: decrypt.KeyLog | None = None

    # -- helpers ---------------------------------------------------------------

    @property
    def version_label(self) -> str:
        return {True: "TLS 1.3", False: "TLS 1.2", None: "not negotiated yet"}[self.tls13]

    def _secrets(self) -> dict[str, bytes]:
        if len(self.capture.keylog) != self._keylog_len:
            self._keylog = decrypt.KeyLog.parse(self.capture.keylog, strict=False)
            self._keylog_len = len(self.capture.keylog)
        return self._keylog.secrets_for(self.client_random) if self._keylog else {}

    def _version_field(self) -> Field:
        return computed("tls version", self.version_label)

    # -- input -----------------------------------------------------------------

    def feed(self, direction: str, data: bytes, time: float) -> list[Step]:
        d = self.dirs[direction]
        d.buf += data
        steps: list[Step] = []
        if direction == "c2s":
            steps += self.client_acts(time)
        try:
            records, tail = tr.split_records(bytes(d.buf), d.offset)
        except tr.TLSFormatError as exc:
            steps.append(self._error("tls record", exc.rule, exc.rfc, exc.offset,
                                     SIDE[direction], time))
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
                    "tls record", f"the connection ended inside a TLS record ({len(d.buf)} bytes left over)",
                    "RFC 8446 §5.1", d.offset, SIDE[direction], time, status="warning"))
            if d.hs.pending:
                steps.append(self._error(
                    "tls handshake", "the connection ended inside a handshake message",
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
            # outer type alert is in the clear (OpenSSL sends one when it refuses the
            # server's certificate before it has written anything encrypted).
            d.records[tag] = (raw, False)
            step = self._alert(direction, raw, rec.fragment, time, encrypted=False)
            step.fields.insert(1, computed("unused key", d.key_name))
            return [step]
        if d.decryptor is None and d.wanted is not None and rec.content_type == tr.ContentType.application_data:
            self._late_key(d)
        if d.decryptor is None:
            if rec.content_type == tr.ContentType.handshake:
                d.records[tag] = (raw, False)
                return self._handshake_bytes(direction, rec.fragment, tag, time)
            if rec.content_type == tr.ContentType.alert:
                return [self._alert(direction, raw, rec.fragment, time, encrypted=False)]
            return self._undecryptable(direction, raw, rec.start, time, "no traffic key for this direction yet")
        try:
            out = d.decryptor.decrypt(rec.header, rec.fragment)
        except decrypt.DecryptError as exc:
            return [self._error("tls record", f"record does not decrypt: {exc.rule}", exc.rfc,
                                rec.start + exc.offset, SIDE[direction], time, wire=raw)]
        d.records[tag] = (raw, True)
        self._decrypted[tag] = (d.key_name, out)
        if out.content_type == tr.ContentType.handshake:
            return self._handshake_bytes(direction, out.plaintext, tag, time)
        if out.content_type == tr.ContentType.alert:
            return [self._alert(direction, raw, out.plaintext, time, encrypted=True, how=(d.key_name, out))]
        if out.content_type == tr.ContentType.application_data:
            return self.app(direction, out.plaintext, raw, time)
        return [self._error("tls record", f"unexpected inner content type {out.content_type}",
                            "RFC 8446 §5.2", rec.start, SIDE[direction], time, wire=raw)]

    def _undecryptable(self, direction: str, raw: bytes, offset: int, time: float, why: str) -> list[Step]:
        d = self.dirs[direction]
        d.undecryptable += 1
        if d.warned:
            return []
        d.warned = True
        return [self.maker.error(
            "tls record", why, "RFC 8446 §5.2", offset, SIDE[direction], time, wire=raw, status="warning",
            action="shown as opaque bytes", title="Encrypted records: no key",
            summary=f"{ARROW[direction]}: encrypted records cannot be read ({why}); "
                    "an eavesdropper is here too")]

    # -- ChangeCipherSpec and alerts ------------------------------------------

    def _ccs(self, direction: str, raw: bytes, payload: bytes, time: float) -> list[Step]:
        d = self.dirs[direction]
        desc = describe_ccs(payload)
        fields = record_fields([raw], [False]) + [self._version_field()] + desc.fields
        if self.tls13:
            summary = "middlebox compatibility: a dummy ChangeCipherSpec that changes nothing (RFC 8446 D.4)"
        else:
            summary = "from here on this side encrypts with the new keys"
            before: list[Step] = []
            if d.pending is None and d.decryptor is None and self.tls13 is False:
                # An abbreviated (resumed) TLS 1.2 handshake has no ClientKeyExchange:
                # the master secret is the resumed session's, and the keys exist now.
                before = self._tls12_keys(time)
            if d.pending:
                d.decryptor, d.key_name = d.pending
                d.pending = None
            return before + [self.maker.make("tls.change_cipher_spec", direction, "ChangeCipherSpec",
                                             summary, wire=raw, data=payload, fields=fields, time=time)]
        return [self.maker.make("tls.change_cipher_spec", direction, "ChangeCipherSpec", summary,
                                wire=raw, data=payload, fields=fields, time=time)]

    def _alert(self, direction: str, raw: bytes, payload: bytes, time: float, *, encrypted: bool,
               how: tuple | None = None) -> Step:
        try:
            desc = describe_alert(payload)
        except tr.TLSFormatError as exc:
            return self._error("tls alert", exc.rule, exc.rfc, exc.offset, SIDE[direction], time,
                               wire=raw, data=payload)
        fields = record_fields([raw], [encrypted]) + [self._version_field()]
        if how:
            fields.append(self._decrypted_field(*how))
        fields += desc.fields
        level = desc.info.get("level")
        if level == 2:
            self.fatal_alert = True
        status = "ok" if desc.info.get("description") == 0 else ("error" if level == 2 else "warning")
        return self.maker.make("tls.alert", direction, f"Alert: {names.alert(desc.info.get('description', -1))}",
                               f"{ARROW[direction]}: {desc.summary}", wire=raw, data=payload,
                               fields=fields, status=status, time=time)

    def _decrypted_field(self, key_name: str, out: "decrypt.Decrypted") -> Field:
        f = computed("decrypted with", f"{key_name}, record sequence number {out.seq}")
        f.add(computed("nonce", out.nonce.hex()))
        if out.padding:
            f.add(computed("padding", f"{out.padding} zero bytes"))
        f.add(computed("inner content type", f"{out.content_type} {names.content_type(out.content_type)}"))
        return f

    # -- handshake messages ----------------------------------------------------

    def _handshake_bytes(self, direction: str, plaintext: bytes, tag: int, time: float) -> list[Step]:
        d = self.dirs[direction]
        steps: list[Step] = []
        try:
            messages = d.hs.feed(plaintext, tag)
        except tr.TLSFormatError as exc:
            return [self._error("tls handshake", exc.rule, exc.rfc, exc.offset, SIDE[direction], time)]
        for msg, tags in messages:
            steps += self._message(direction, msg, tags, time)
        return steps

    def _message(self, direction: str, msg: bytes, tags: list[int], time: float) -> list[Step]:
        d = self.dirs[direction]
        mtype = msg[0]
        try:
            desc = describe_handshake(msg, tls13=self.tls13, from_client=direction == "c2s")
        except tr.TLSFormatError as exc:
            return [self._error("tls handshake", exc.rule, exc.rfc, exc.offset, SIDE[direction], time,
                                data=msg)]
        info = desc.info
        kind = KIND_BY_TYPE.get(mtype)
        steps: list[Step] = []
        after: list[Step] = []

        if mtype == 1:
            if not self.client_random:
                self.client_random = info.get("client_random", b"")
            self.transcript.append(msg)
            if self.retried:
                desc.fields.insert(0, computed("attempt", "2 (after HelloRetryRequest)"))
        elif mtype == 2:
            if info.get("is_hrr"):
                kind = "tls.hello_retry_request"
                self.tls13 = True  # HelloRetryRequest exists only in TLS 1.3 (RFC 8446 §4.1.4)
                self.retried = True
                first = self.transcript[0] if self.transcript else b""
                h = self._hash_name(info.get("cipher_suite"))
                digest = hashlib.new(h, first).digest()
                self.transcript = [bytes([254, 0, 0, len(digest)]) + digest, msg]
            else:
                self.server_random = info.get("server_random", b"")
                self.tls13 = info.get("selected_version") == 0x0304
                self.suite = decrypt.SUITES.get(info.get("cipher_suite"))
                self.transcript.append(msg)
        else:
            self.transcript.append(msg)

        records = []
        for t in dict.fromkeys(tags):
            raw, enc = d.records.get(t, (b"", False))
            records.append((raw, enc, t))
        wire = b"".join(r[0] for r in records)
        fields = record_fields([r[0] for r in records], [r[1] for r in records])
        fields.append(self._version_field())
        for raw, enc, t in records:
            if enc and t in self._decrypted:
                fields.append(self._decrypted_field(*self._decrypted[t]))
                break
        fields += desc.fields
        status = "ok"
        if kind is None:
            kind = "error"
            status = "warning"
            fields = [computed("layer", "tls handshake"),
                      computed("rule", f"handshake message type {mtype} is not shown by wssviz"),
                      computed("rfc", "RFC 8446 §4"), computed("offset", "0"),
                      computed("by", SIDE[direction]), computed("action", "skipped")] + fields
        title = desc.name
        if mtype == 20:
            title = f"Finished ({SIDE[direction]})"
        steps.append(self.maker.make(kind, direction, title, f"{ARROW[direction]}: {desc.summary}",
                                     wire=wire, data=msg, fields=fields, status=status, time=time))

        # state changes that follow the message
        if mtype == 2 and not info.get("is_hrr") and self.tls13:
            after += self._tls13_handshake_keys(time)
        elif mtype == 11 and direction == "s2c":
            self.server_chain = list(info.get("certificates", []))
        elif mtype == 15 and direction == "s2c":
            self.cv = {"scheme": info.get("signature_scheme"), "signature": info.get("signature", b""),
                       "transcript": list(self.transcript[:-1])}
            self.check_pending = bool(self.server_chain)
        elif mtype == 12 and direction == "s2c":
            self.cv = {"scheme": info.get("signature_scheme"), "signature": info.get("signature", b""),
                       "content": self.client_random + self.server_random + info.get("ske_params", b"")}
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

    # -- keys ------------------------------------------------------------------

    @staticmethod
    def _hash_name(suite_code: int | None) -> str:
        s = decrypt.SUITES.get(suite_code) if suite_code is not None else None
        return s.hash if s else "sha256"

    def _activate_pending(self, direction: str) -> None:
        d = self.dirs[direction]
        if d.pending:
            d.decryptor, d.key_name = d.pending
            d.pending = None

    def _keys_step(self, phase: str, time: float, secrets: list[tuple[str, bytes]],
                   derived: list[tuple[str, "decrypt.TrafficKeys"]], missing: list[str]) -> Step:
        fields = [computed("phase", phase), self._version_field()]
        if self.suite:
            fields.append(computed("cipher suite", f"0x{self.suite.code:04x} {self.suite.name}"))
        lines = []
        for label, secret in secrets:
            fields.append(computed(label, secret.hex()))
            lines.append(f"{label} {self.client_random.hex()} {secret.hex()}")
        for name, keys in derived:
            fields.append(computed(f"{name} key", keys.key.hex()))
            fields.append(computed(f"{name} iv", keys.iv.hex()))
        if missing:
            fields.append(computed("missing", ", ".join(missing)))
        # OpenSSL derives the client's handshake *sending* key only when the client next
        # sends: a client-side key log may not hold it yet.  Not a fault; it is picked
        # up when the client's first encrypted record arrives.
        late_client = missing == ["CLIENT_HANDSHAKE_TRAFFIC_SECRET"]
        what = {"handshake": "handshake traffic keys now exist on both sides",
                "application": "application traffic keys now exist: the WebSocket bytes will use them",
                "master secret": "the master secret and the four traffic keys now exist"}[phase]
        if late_client:
            summary = f"{what}; the client's own sending key is not in its key log yet (OpenSSL " \
                      "derives it when the client next sends)"
        else:
            summary = what if not missing else f"{what}; the key log lacks {', '.join(missing)}"
        title = {"handshake": "Handshake keys", "application": "Application keys",
                 "master secret": "Session keys"}[phase]
        return self.maker.make("tls.keys", "client", title, summary,
                               data="\n".join(lines).encode() + (b"\n" if lines else b""),
                               fields=fields, status="warning" if missing and not late_client else "ok",
                               time=time)

    def _tls13_handshake_keys(self, time: float) -> list[Step]:
        return self._tls13_keys("handshake", "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
                                "SERVER_HANDSHAKE_TRAFFIC_SECRET", time, activate_client=True)

    def _tls13_application_keys(self, time: float) -> list[Step]:
        return self._tls13_keys("application", "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0",
                                time, activate_client=False)

    def _late_key(self, d: "_Direction") -> None:
        """A secret that was missing when its keys came to exist may be in the key log now."""
        label, name, _now = d.wanted
        secret = self._secrets().get(label)
        if secret is not None and self.suite is not None:
            d.decryptor = decrypt.RecordDecryptor(self.suite, decrypt.tls13_traffic_keys(self.suite, secret))
            d.key_name = name
            d.wanted = None

    def _server_application_keys(self) -> None:
        """After its Finished the server may send at once: switch s2c quietly."""
        secret = self._secrets().get("SERVER_TRAFFIC_SECRET_0")
        if secret is not None and self.suite is not None:
            keys = decrypt.tls13_traffic_keys(self.suite, secret)
            d = self.dirs["s2c"]
            d.decryptor = decrypt.RecordDecryptor(self.suite, keys)
            d.key_name = f"server application traffic key ({self.suite.name})"

    def _tls13_keys(self, phase: str, client_label: str, server_label: str, time: float,
                    *, activate_client: bool) -> list[Step]:
        secrets = self._secrets()
        found, derived, missing = [], [], []
        for side, label, direction in (("client", client_label, "c2s"), ("server", server_label, "s2c")):
            secret = secrets.get(label)
            if secret is None or self.suite is None:
                missing.append(label)
                if self.suite is not None:
                    self.dirs[direction].wanted = (label, f"{side} {phase} traffic key ({self.suite.name})",
                                                   direction == "s2c" or activate_client)
                continue
            keys = decrypt.tls13_traffic_keys(self.suite, secret)
            found.append((label, secret))
            derived.append((f"{side} {phase}", keys))
            dec = decrypt.RecordDecryptor(self.suite, keys)
            name = f"{side} {phase} traffic key ({self.suite.name})"
            if direction == "s2c" and phase == "application" and self.dirs["s2c"].key_name == name:
                continue  # already switched at the server's Finished; keep its sequence number
            if direction == "s2c" or activate_client:
                self.dirs[direction].decryptor, self.dirs[direction].key_name = dec, name
            else:
                self.dirs[direction].pending = (dec, name)
        return [self._keys_step(phase, time, found, derived, missing)]

    def _tls12_keys(self, time: float) -> list[Step]:
        secrets = self._secrets()
        master = secrets.get("CLIENT_RANDOM")
        if master is None or self.suite is None:
            why = "CLIENT_RANDOM" if master is None else "a cipher suite wssviz can decrypt"
            return [self._keys_step("master secret", time, [], [], [why])]
        ckeys, skeys = decrypt.tls12_key_block(self.suite, master, self.client_random, self.server_random)
        for side, keys, direction in (("client", ckeys, "c2s"), ("server", skeys, "s2c")):
            self.dirs[direction].pending = (decrypt.RecordDecryptor(self.suite, keys),
                                            f"{side} write key ({self.suite.name})")
        return [self._keys_step("master secret", time, [("CLIENT_RANDOM", master)],
                                [("client write", ckeys), ("server write", skeys)], [])]

    # -- the certificate check -------------------------------------------------

    def cert_check(self, time: float) -> list[Step]:
        if not self.check_pending or self.check_done:
            return []
        self.check_pending = False
        self.check_done = True
        at = dt.datetime.fromtimestamp(self.capture.started, dt.timezone.utc)
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
            checks.append(x509.Check("proof of key", sig.ok, f"{what}: {sig.detail}"))
        # An imported capture does not say what its client trusted; a live client does
        # (its ``trust_source``), even when none of its anchors matched.
        unanchored = not self.capture.trust and not self.capture.settings.get("trust_source")
        if unanchored:
            checks = [c for c in checks if c.name != "chain"]
        ours_ok = all(c.ok for c in checks)
        fields = [self._version_field()]
        if unanchored:
            fields.append(computed("chain", "not judged: this capture carries no trust anchors "
                                            "(replay it with --cafile to judge the chain)"))
        for c in checks:
            fields.append(computed(c.name, ("ok: " if c.ok else "FAILED: ") + c.detail))
        status = "ok" if ours_ok and not unanchored else "warning" if ours_ok else "error"
        unchecked = bool(self.verdict and self.verdict.get("insecure"))
        if self.verdict is not None:
            v = self.verdict
            if unchecked:
                ossl = f"not verified (--insecure): {v.get('message')}"
                status = "ok" if ours_ok else "warning"
            else:
                ossl = "ok" if v.get("ok") else f"FAILED: {v.get('message')} (code {v.get('code')})"
                if bool(v.get("ok")) != ours_ok:
                    status = "warning" if ours_ok is False else "error"
                    fields.append(computed("disagreement", "wssviz's checks and OpenSSL's verdict differ"))
            fields.append(computed("OpenSSL verdict", ossl))
        problems = "; ".join(f"{c.name}: {c.detail}" for c in checks if not c.ok)
        if ours_ok and unanchored:
            verdict, summary = ("not judged: no trust anchors; host name, dates and key proof check out",
                                "host name, dates and key proof check out; the chain is not judged "
                                "(no trust anchors in this capture)")
        elif ours_ok:
            verdict, summary = ("ok: chains to a CA this client trusts, the name and dates match, "
                                "the key is proven",
                                "chain, host name, dates and key proof all check out")
        elif unchecked:
            verdict, summary = ("FAILED, but the client went on without checking (--insecure)",
                                f"not verified, the client carries on (--insecure): {problems}")
        else:
            verdict, summary = "FAILED: the client must not trust this server", f"refused: {problems}"
        fields.insert(1, computed("verdict", verdict))
        if self.server_chain:
            fields.insert(2, computed("issuer", x509.issuer_name(self.server_chain[0])))
        failed = [c.name for c in checks if not c.ok]
        return [self.maker.make("tls.cert_check", "client",
                                "Certificate check" + (" failed" if failed else ""), summary,
                                data=b"".join(self.server_chain), fields=fields, status=status, time=time)]

    # -- errors ----------------------------------------------------------------

    def _error(self, layer: str, rule: str, rfc: str, offset: int, by: str, time: float, *,
               wire: bytes = b"", data: bytes = b"", status: str = "error") -> Step:
        # ``by`` sent the offending bytes; the side reading them notices
        return self.maker.error(layer, rule, rfc, offset, OTHER[by], time, blame=by, wire=wire, data=data,
                                status=status,
                                action="shown; the rest of the stream is skipped")
