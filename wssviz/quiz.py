"""The interview drill: questions about a session, with answers checked.

Four kinds of question (``Question.kind``):

- ``interview``: the four questions every WSS interview asks (how WebSocket talks
  securely; how WSS and HTTPS are alike and differ; the handshake flow; how to tell a
  connection is secure and reliable).  A model answer; a reply is checked by the
  concepts it names (credit is the share found, the missing ones are named).
- ``bytes``: made from this session's own bytes (the key and its Accept, a masked
  payload, the suite and group chosen, round trips before the first WebSocket byte
  ...).  The answer is computed here from the steps' raw field values, and kept as
  data (``value``) that a script can recompute from ``wssviz run --json``.
- ``predict``: at a turning point of the session, what the other side sends next.
- ``myth``: a simplification learners bring ("Sec-WebSocket-Key is signed by the
  server"), true or false, with what really happens.

Every question names the steps that show its answer.  All words are catalog
messages (``quiz.*`` in the ``[text]`` table): this module decides with kinds, field
ids and raw values, and builds ``Msg``s.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from wssviz.core.msg import Msg
from wssviz.steps import Field, Step

KINDS = ("interview", "bytes", "predict", "myth")


@dataclass(frozen=True)
class Verdict:
    """A reply judged: ``score`` from 0 to 1 and what to say about it."""

    score: float
    said: tuple[Msg, ...] = ()


@dataclass(frozen=True)
class Check:
    """How a reply is judged.

    ``how`` is ``exact`` (``value``: the right text; ``forms``: other ways to write
    it; ``near``: (text, score, Msg) for a known near miss), ``number`` (``value``; an
    answer one off earns half, ``near`` may say why), ``yesno`` (``value`` True/False),
    ``concepts`` (``value``: concept names; a reply earns the share it names) or
    ``text`` (``value``: bytes; credit for each byte right, the first wrong named).
    """

    how: str
    value: Any
    forms: tuple[str, ...] = ()
    near: tuple[tuple[Any, float, Msg], ...] = ()


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    question: Msg
    answer: Msg
    steps: tuple[int, ...]
    check: Check
    value: Any = None  # the answer as data (what a script can recompute), for ``bytes``
    proof: Msg | None = field(default=None, compare=False)  # how the answer is worked out


# --- reading the steps (kinds, field ids, raw values) --------------------------------


def _fields(step: Step, fid: str) -> Iterator[Field]:
    for f in step.walk():
        if f.id == fid:
            yield f


def _raw(step: Step, fid: str, default: Any = None) -> Any:
    return next((f.raw for f in _fields(step, fid)), default)


def _first(steps: list[Step], kind: str, direction: str | None = None,
           when: Callable[[Step], bool] | None = None) -> Step | None:
    for s in steps:
        if s.kind == kind and (direction is None or s.direction == direction) and (when is None or when(s)):
            return s
    return None


def _header(step: Step, name: str) -> str | None:
    """The value of an HTTP header of a request or response step (first of its name)."""
    for h in _fields(step, "http.header"):
        names = [c.raw for c in h.children if c.id == "http.header.name"]
        values = [c.raw for c in h.children if c.id == "http.header.value"]
        if names and values and str(names[0]).lower() == name.lower():
            return str(values[0])
    return None


def _opcode(step: Step) -> int | None:
    return _raw(step, "ws.frame.opcode")


def _payload(step: Step) -> bytes:
    """A frame's payload bytes as they crossed the wire (masked, if it was)."""
    f = next(_fields(step, "ws.frame.payload"), None)
    return step.data[f.start:f.end] if f is not None and f.of == "data" else b""


def _unmask(data: bytes, key: bytes) -> bytes:
    return bytes(b ^ key[i % 4] for i, b in enumerate(data))


def _bytes(raw: Any) -> bytes:
    """A raw value that holds bytes (as bytes, or as hex once through JSON)."""
    return raw if isinstance(raw, bytes) else bytes.fromhex(str(raw))


#: TLS version numbers as a learner writes them (after "TLS ")
TLS_VERSIONS = {0x0304: "1.3", 0x0303: "1.2", 0x0302: "1.1", 0x0301: "1.0"}


def tls_version(steps: list[Step]) -> int | None:
    sh = _first(steps, "tls.server_hello")
    if sh is None:
        return None
    return _raw(sh, "tls.server_hello.selected_version") or _raw(sh, "tls.server_hello.legacy_version")


def _data_frame(s: Step) -> bool:
    return _opcode(s) in (1, 2)


def _text_or_hex(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
        if text.isprintable():
            return text
    except UnicodeDecodeError:
        pass
    return data.hex()


# --- the four interview questions -----------------------------------------------------

#: (id, the concepts a good answer names, the step kinds that show it)
INTERVIEW = (
    ("secure", ("tls", "certificate", "key_exchange", "encryption", "integrity", "wss_port"),
     ("tls.client_hello", "tls.server_hello", "tls.certificate", "tls.cert_check", "tls.finished", "ws.frame")),
    ("vs_https", ("same_tls", "upgrade", "persistent", "full_duplex", "frames", "wss_port"),
     ("tls.client_hello", "http.upgrade_request", "http.upgrade_response", "ws.frame")),
    ("handshake", ("tcp", "hello", "certificate", "key_exchange", "upgrade", "ws_key", "switching")),
    ("reliable", ("wss_port", "validation", "origin", "heartbeat", "close_codes", "reconnect"),
     ("tls.cert_check", "http.upgrade_request", "ws.frame", "tcp.close")),
)
_HANDSHAKE_KINDS = ("tcp.connect", "tls.client_hello", "tls.server_hello", "tls.certificate", "tls.finished",
                    "http.upgrade_request", "ws.accept", "http.upgrade_response")


def _steps_of(steps: list[Step], kinds: Iterable[str], limit: int = 2) -> tuple[int, ...]:
    out: list[int] = []
    for kind in kinds:
        out += [s.index for s in steps if s.kind == kind][:limit]
    return tuple(sorted(set(out)))


def interview(steps: list[Step]) -> list[Question]:
    out = []
    for item in INTERVIEW:
        qid, concepts = item[0], item[1]
        kinds = item[2] if len(item) > 2 else _HANDSHAKE_KINDS
        out.append(Question(f"interview.{qid}", "interview", Msg(f"quiz.interview.{qid}.q"),
                            Msg(f"quiz.interview.{qid}.a"), _steps_of(steps, kinds, 1),
                            Check("concepts", concepts)))
    return out


# --- questions made from this session's bytes ----------------------------------------


def _q(qid: str, steps: Iterable[Step | None], check: Check, value: Any, **params: Any) -> Question:
    return Question(f"bytes.{qid}", "bytes", Msg(f"quiz.bytes.{qid}.q", **params),
                    Msg(f"quiz.bytes.{qid}.a", **params), tuple(s.index for s in steps if s is not None),
                    check, value)


def _accept(steps):
    req = _first(steps, "http.upgrade_request")
    key = _header(req, "Sec-WebSocket-Key") if req else None
    if not key:
        return None
    from wssviz.core.key import GUID, derive_accept

    d = derive_accept(key)
    hexed = d.digest.hex()
    import hashlib

    no_guid = base64.b64encode(hashlib.sha1(key.encode("latin-1")).digest()).decode()
    near = ((hexed, 0.5, Msg("quiz.near.accept_hex")), (no_guid, 0.25, Msg("quiz.near.accept_no_guid")))
    return _q("accept", (req, _first(steps, "ws.accept"), _first(steps, "http.upgrade_response")),
              Check("exact", d.accept, near=near), d.accept, key=key, accept=d.accept, guid=GUID)


def _masked(steps):
    s = _first(steps, "ws.frame", "c2s", lambda s: _data_frame(s) and _raw(s, "ws.frame.mask") is True)
    if s is None:
        return None
    key, payload = _raw(s, "ws.frame.masking_key"), _payload(s)
    if not key or not payload or len(payload) > 32:
        return None
    plain = _unmask(payload, _bytes(key))
    return _q("unmask", (s,), Check("text", plain), _text_or_hex(plain),
              mask=_bytes(key).hex(), masked=payload.hex(), plain=_text_or_hex(plain))


def _cert_readable(steps):
    s = _first(steps, "tls.certificate", "s2c")
    if s is None:
        return None
    ctype = _raw(s, "tls.record.content_type")
    readable = ctype == 22
    return _q("cert_readable", (s,), Check("yesno", readable), {"content_type": ctype, "readable": readable},
              content_type=ctype, readable=Msg("quiz.bytes.cert_readable.yes" if readable else "quiz.bytes.cert_readable.no"),
              why=Msg("quiz.bytes.cert_readable.clear" if readable else "quiz.bytes.cert_readable.hidden"))


def _named(qid: str, where: Step | None, code: int | None, name_of: Callable[[int], Any]) -> Question | None:
    """A question whose answer is an IANA number with a name (a suite, a group): the
    name, the number in hex or decimal all count."""
    if where is None or code is None:
        return None
    name = name_of(code)
    forms = (f"0x{code:04x}", str(code)) + ((name,) if isinstance(name, str) else ())
    return _q(qid, (where,), Check("exact", name if isinstance(name, str) else f"0x{code:04x}", forms=forms),
              code, code=f"0x{code:04x}", name=name)


def _suite(steps):
    from wssviz.dissect import names

    sh = _first(steps, "tls.server_hello")
    return _named("suite", sh, _raw(sh, "tls.server_hello.cipher_suite") if sh else None, names.cipher_suite)


def _group(steps):
    from wssviz.dissect import names

    where = _first(steps, "tls.server_hello")
    code = _raw(where, "tls.ext.key_share.entry") if where else None
    if code is None:  # TLS 1.2: the curve of the ServerKeyExchange
        where = _first(steps, "tls.server_key_exchange")
        code = _raw(where, "tls.server_key_exchange.curve") if where else None
    return _named("group", where, code, names.group)


def _version(steps):
    v = tls_version(steps)
    if v is None:
        return None
    minor = TLS_VERSIONS.get(v)
    if minor is None:
        return None
    forms = (f"tls {minor}", f"tls{minor}", f"tlsv{minor}", f"0x{v:04x}", str(v))
    return _q("version", (_first(steps, "tls.client_hello"), _first(steps, "tls.server_hello")),
              Check("exact", minor, forms=forms), minor, version=minor, code=f"0x{v:04x}")


def round_trips(steps: list[Step]) -> int | None:
    """Round trips from the client's SYN to the moment it may send its first WebSocket
    byte: TCP's handshake (1), one for each ClientHello the client had to send (a
    HelloRetryRequest makes two), one more for a full TLS 1.2 handshake (the client
    waits for the server's Finished), and the HTTP Upgrade (1); on the session's first
    connection."""
    done = _first(steps, "http.upgrade_response")
    if done is None:
        return None
    before = steps[:done.index]  # (the first connection: a session may open another)
    hellos = sum(1 for s in before if s.kind == "tls.client_hello")
    full12 = tls_version(before) == 0x0303 and _first(before, "tls.certificate", "s2c") is not None
    return 1 + hellos + int(full12) + 1


def _rtt(steps):
    n = round_trips(steps)
    if n is None:
        return None
    done = _first(steps, "http.upgrade_response")
    hellos = sum(1 for s in steps[:done.index] if s.kind == "tls.client_hello")
    tls = n - 2
    near = ((n - 1, 0.5, Msg("quiz.near.rtt_tcp")),)
    shown = [s for s in (_first(steps, "tcp.connect"), _first(steps, "tls.client_hello"),
                         _first(steps, "tls.server_hello"), _first(steps, "http.upgrade_request"),
                         _first(steps, "http.upgrade_response"), _first(steps, "ws.frame", "c2s"))]
    q = _q("rtt", shown, Check("number", n, near=near), n, n=n, tls=tls, hellos=hellos)
    if not hellos:  # ws://: no TLS to count
        q = Question(q.id, q.kind, q.question, Msg("quiz.bytes.rtt.a_ws", n=n), q.steps, q.check, q.value)
    return q


def _close_code(steps):
    s = _first(steps, "ws.frame", "c2s", lambda s: _opcode(s) == 8 and _raw(s, "ws.frame.close_code") is not None)
    if s is None:
        s = _first(steps, "ws.frame", None, lambda s: _opcode(s) == 8 and _raw(s, "ws.frame.close_code") is not None)
    if s is None:
        return None
    code = _raw(s, "ws.frame.close_code")
    return _q("close_code", (s,), Check("number", code), code, code=code,
              side=Msg("quiz.word.client" if s.direction == "c2s" else "quiz.word.server"))


def _close_should(steps):
    """A peer broke a rule: which close code must the side that saw it send (RFC 6455
    §7.4.1)?  Asked where the session has such a failure; the answer is the code that
    side then sent."""
    err = _first(steps, "error", None, lambda s: _raw(s, "error.action") == "close_code"
                 and _raw(s, "error.by") in ("client", "server"))
    if err is None:
        return None
    side = "c2s" if _raw(err, "error.by") == "client" else "s2c"
    close = _first(steps, "ws.frame", side, lambda s: s.index > err.index and _opcode(s) == 8
                   and _raw(s, "ws.frame.close_code") is not None)
    if close is None:
        return None
    code = _raw(close, "ws.frame.close_code")
    rule = next(_fields(err, "error.rule")).value  # (the rule as the step says it, with its values)
    return _q("close_should", (err, close), Check("number", code), code, n=err.index, rule=rule,
              side=Msg("quiz.word.client" if side == "c2s" else "quiz.word.server"), code=code)


def _sni(steps):
    ch = _first(steps, "tls.client_hello")
    name = _raw(ch, "tls.ext.server_name.host_name") if ch else None
    if not name:
        return None
    return _q("sni", (ch,), Check("exact", str(name)), str(name), name=str(name))


def _overhead(steps):
    s = _first(steps, "ws.frame", "c2s", _data_frame)
    if s is None or tls_version(steps) is None:
        return None
    records = list(_fields(s, "tls.record"))
    if len(records) != 1 or not s.wire or not s.data:
        return None
    extra = len(s.wire) - len(s.data)
    return _q("overhead", (s,), Check("number", extra), extra, n=extra, frame=len(s.data), record=len(s.wire))


def _header_size(steps):
    s = _first(steps, "ws.frame", "c2s", _data_frame)
    if s is None or not s.data:
        return None
    length = _raw(s, "ws.frame.payload_length")
    if length is None:
        return None
    head = len(s.data) - length
    masked = _raw(s, "ws.frame.mask") is True
    near = ((head - 4, 0.5, Msg("quiz.near.header_mask")),) if masked else ()
    return _q("header_size", (s,), Check("number", head, near=near), head, size=len(s.data), n=head,
              payload=length)


def _server_masked(steps):
    s = _first(steps, "ws.frame", "s2c", _data_frame)
    if s is None:
        return None
    masked = _raw(s, "ws.frame.mask") is True
    return _q("server_masked", (s,), Check("yesno", masked), masked,
              said=Msg("quiz.bytes.server_masked.yes" if masked else "quiz.bytes.server_masked.no"))


def _subprotocol(steps):
    req, resp = _first(steps, "http.upgrade_request"), _first(steps, "http.upgrade_response")
    offered = _header(req, "Sec-WebSocket-Protocol") if req else None
    if not offered or resp is None:
        return None
    chosen = _header(resp, "Sec-WebSocket-Protocol")
    value = chosen or ""
    forms = () if chosen else ("none", "-", "无", "没有")
    return _q("subprotocol", (req, resp), Check("exact", value or "none", forms=forms), value,
              offered=offered, chosen=chosen or Msg("quiz.word.none"))


def _suites_offered(steps):
    ch = _first(steps, "tls.client_hello")
    if ch is None:
        return None
    # (signalling values are not suites: the renegotiation SCSV, TLS_FALLBACK_SCSV, GREASE)
    n = sum(1 for f in _fields(ch, "tls.client_hello.suite")
            if f.raw not in (0x00FF, 0x5600) and not (isinstance(f.raw, int) and f.raw & 0x0F0F == 0x0A0A))
    if not n:
        return None
    return _q("suites_offered", (ch,), Check("number", n), n, n=n)


def _chain(steps):
    s = _first(steps, "tls.certificate", "s2c")
    n = _raw(s, "tls.certificate.list") if s else None
    if not isinstance(n, int):
        return None
    return _q("chain", (s, _first(steps, "tls.cert_check")), Check("number", n), n, n=n)


def _pong(steps):
    ping = _first(steps, "ws.frame", "c2s", lambda s: _opcode(s) == 9)
    if ping is None:
        return None
    payload = _payload(ping)
    key = _raw(ping, "ws.frame.masking_key")
    if key:
        payload = _unmask(payload, _bytes(key))
    pong = _first(steps, "ws.frame", "s2c", lambda s: _opcode(s) == 10 and s.index > ping.index)
    return _q("pong", (ping, pong), Check("text", payload), _text_or_hex(payload), plain=_text_or_hex(payload))


BYTES = (_accept, _masked, _cert_readable, _suite, _group, _version, _rtt, _close_code, _close_should, _sni,
         _overhead,
         _header_size, _server_masked, _subprotocol, _suites_offered, _chain, _pong)


def from_bytes(steps: list[Step]) -> list[Question]:
    return [q for make in BYTES if (q := make(steps)) is not None]


# --- what comes next -------------------------------------------------------------------

#: (the step, what the other side sends next): turning points a learner should foresee
TURNS = (
    ("tls.client_hello", "tls.server_hello"),
    ("http.upgrade_request", "http.upgrade_response"),
    ("ping", "pong"),
    ("close", "close"),
    ("tcp.connect", "tls.client_hello"),
)


def _frame_kind(s: Step) -> str:
    return {9: "ping", 10: "pong", 8: "close", 1: "text", 2: "binary"}.get(_opcode(s) or -1, "frame") \
        if s.kind == "ws.frame" else s.kind


def predict(steps: list[Step]) -> list[Question]:
    out = []
    wire = [s for s in steps if s.direction in ("c2s", "s2c")]
    for at, then in TURNS:
        before = next((s for s in wire if _frame_kind(s) == at), None)
        if before is None:
            continue
        other = "s2c" if before.direction == "c2s" else "c2s"
        if at == "tcp.connect":
            other = "c2s"
        after = next((s for s in wire if s.index > before.index and s.direction == other), None)
        if after is None or _frame_kind(after) != then:
            continue
        out.append(Question(f"predict.{at}", "predict",
                            Msg("quiz.predict.q", n=before.index, title=before.title,
                                side=Msg("quiz.word.server" if other == "s2c" else "quiz.word.client")),
                            Msg(f"quiz.predict.{then}.a", n=after.index, title=after.title),
                            (before.index, after.index), Check("concepts", (f"next_{then}",)), then))
    return out


# --- what the article says, and what really happens ----------------------------------

#: (id, the step kinds that show what really happens)
MYTHS = (
    ("verify_then_key", ("tls.client_hello", "tls.server_hello", "tls.keys", "tls.certificate", "tls.cert_check",
                         "tls.client_key_exchange")),
    ("key_signed", ("http.upgrade_request", "ws.accept", "http.upgrade_response", "ws.accept_check")),
    ("version_usually_13", ("http.upgrade_request",)),
    ("socketio_is_websocket", ("http.upgrade_request", "ws.frame")),
)


def myths(steps: list[Step]) -> list[Question]:
    """The simplifications, each judged against this session: the certificate-first
    one is roughly true of a TLS 1.2 handshake (the client checks the certificate and
    the ServerKeyExchange signature before it sends its ClientKeyExchange) and false of
    TLS 1.3; a session without TLS is not asked it."""
    version = tls_version(steps)
    out = []
    for mid, kinds in MYTHS:
        answer, value = Msg(f"quiz.myth.{mid}.a"), False
        if mid == "verify_then_key":
            if version is None:
                continue
            if version == 0x0303:
                answer, value = Msg("quiz.myth.verify_then_key.a12"), True
        out.append(Question(f"myth.{mid}", "myth", Msg(f"quiz.myth.{mid}.q"), answer,
                            _steps_of(steps, kinds, 1), Check("yesno", value), value))
    return out


def questions(steps: list[Step]) -> list[Question]:
    """Every question this session supports, kind by kind."""
    return interview(steps) + from_bytes(steps) + predict(steps) + myths(steps)


# --- judging a reply ----------------------------------------------------------------

_YES = {"yes", "y", "true", "t", "是", "对", "能", "可以", "是的", "正确", "会"}
_NO = {"no", "n", "false", "f", "否", "不", "不能", "不是", "错", "错误", "不会", "没有"}


#: Small numbers written as words (a reply may say "one", "一张", "十八").
_NUMBER_WORDS = {w: n for n, ws in enumerate((
    ("zero", "零"), ("one", "一"), ("two", "二", "两"), ("three", "三"), ("four", "四"), ("five", "五"),
    ("six", "六"), ("seven", "七"), ("eight", "八"), ("nine", "九"), ("ten", "十"))) for w in ws}


def _number(r: str) -> int | None:
    m = re.search(r"-?\d+", r)
    if m is not None:
        return int(m.group())
    m = re.match(r"([一二两三四五六七八九]?)十([一二三四五六七八九]?)", r)
    if m is not None and (m.group(1) or m.group(2) or r.startswith("十")):
        return (_NUMBER_WORDS.get(m.group(1), 1) if m.group(1) else 1) * 10 + _NUMBER_WORDS.get(m.group(2), 0)
    for word in re.findall(r"[a-z]+|[\u4e00-\u9fff]", r):
        if word in _NUMBER_WORDS:
            return _NUMBER_WORDS[word]
    return None


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower()).strip(" .。!！")


def concept_words(concept: str) -> list[str]:
    """The words that name a concept, in every language (a reply may mix them): the
    catalogs' ``quiz.concept.<name>.words``, matched against, never shown."""
    from wssviz import explain

    out: list[str] = []
    for lang in explain.languages():
        out += [w.strip().lower() for w in explain.text(Msg(f"quiz.concept.{concept}.words"), lang).split(",")]
    return [w for w in out if w]


def judge(q: Question, reply: str, words: Callable[[str], Iterable[str]] = concept_words) -> Verdict:
    """``reply`` judged against ``q``; ``words(concept)`` gives the words that name a
    concept, in every language (the catalogs' ``quiz.concept.<name>.words``)."""
    c = q.check
    r = _norm(reply)
    if not r:
        return Verdict(0.0, (Msg("quiz.verdict.empty"),))
    if c.how == "yesno":
        first = re.split(r"[\s,.;:!?，。；：！？、]+", r)[0]
        said = r in _YES or first in _YES
        if not said and not (r in _NO or first in _NO):
            return Verdict(0.0, (Msg("quiz.verdict.yesno"),))
        return Verdict(1.0 if said == c.value else 0.0, ())
    if c.how == "number":
        n = _number(r)
        if n is None:
            return Verdict(0.0, (Msg("quiz.verdict.number"),))
        if n == c.value:
            return Verdict(1.0)
        for near, score, why in c.near:
            if n == near:
                return Verdict(score, (why,))
        if abs(n - c.value) == 1:
            return Verdict(0.5, (Msg("quiz.verdict.one_off"),))
        return Verdict(0.0)
    if c.how == "exact":
        if r == _norm(str(c.value)) or r in {_norm(f) for f in c.forms}:
            return Verdict(1.0)
        if str(c.value).endswith("=") and reply.strip() == str(c.value).rstrip("="):
            return Verdict(0.75, (Msg("quiz.near.base64_padding"),))
        for near, score, why in c.near:
            if r == _norm(str(near)):
                return Verdict(score, (why,))
        return Verdict(0.0)
    if c.how == "text":
        want: bytes = c.value
        got = reply.strip().encode("utf-8")
        if got == want or got.lower() == want.hex():
            return Verdict(1.0)
        right = sum(1 for a, b in zip(got, want) if a == b)
        wrong = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        return Verdict(round(right / max(len(want), len(got)), 2),
                       (Msg("quiz.verdict.bytes", right=right, of=len(want), at=wrong),))
    # concepts: the share named, the missing ones said
    found, missing = [], []
    for concept in c.value:
        (found if any(w and w in r for w in words(concept)) else missing).append(concept)
    score = round(len(found) / len(c.value), 2)
    said = (Msg("quiz.verdict.missing", concepts=[Msg(f"quiz.concept.{m}") for m in missing]),) if missing else ()
    return Verdict(score, said)
