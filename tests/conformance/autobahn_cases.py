"""The cases of the Autobahn|Testsuite, sections 1 to 7 and 10, as data.

Transcribed from crossbario/autobahn-testsuite, autobahntestsuite/autobahntestsuite/
case/case*.py (the master branch; section 7.9 uses that branch's list of invalid close
codes, ``[0,999,1004,1005,1006,1016,1100,2000,2999]``).  Each case says what the
fuzzing peer does (``actions``: the frames it writes, how it chops them, where it
waits), what it does afterwards (``then``), and what Autobahn expects of the tested
endpoint:

- ``expected``: outcome ("OK", "NON-STRICT") -> the exact list of what the fuzzer
  receives from the endpoint, in order: ``("message", payload, binary)``,
  ``("pong", payload)``, ``("ping", payload)``, and ``("timeout", label)`` for a wait
  after which the connection was still open (``Wait`` with a label).
- ``close``: ``closed_by_me`` (the fuzzer sends the first Close), ``codes`` (the close
  codes the endpoint's Close may carry; no code at all is also accepted),
  ``require_clean`` (both Close frames must cross).
- ``then``: ``("kill", s)`` drop TCP after ``s`` seconds, ``("close", s)`` send Close
  1000 after ``s`` seconds, unless the case is decided first.  When the fuzzer
  expects to close (``closed_by_me``) and what it received matches every expected
  outcome, it sends Close 1000 at once (Autobahn's ``finishWhenDone``), unless
  ``suppress_close``.
- ``informational``: Autobahn reports the outcome without judging it.

No behaviour lives here: the fuzzing peers are in test_autobahn_server.py (a client
against ``wssviz listen``) and test_autobahn_client.py (a server against
``wssviz connect``).
"""

from __future__ import annotations

from typing import NamedTuple

NORMAL = 1000
PROTOCOL_ERROR = 1002
INVALID_PAYLOAD = 1007


# --- what the fuzzer does ------------------------------------------------------------------


class Frame(NamedTuple):
    """Autobahn's ``sendFrame``: one frame, written as it is (no checks)."""

    opcode: int
    payload: bytes = b""
    fin: bool = True
    rsv: int = 0  # the three RSV bits as a number: 4 = RSV1, 2 = RSV2, 1 = RSV3
    chop: int | None = None  # ``chopsize``: write the frame's octets in pieces of this many
    sync: bool = False  # frame-wise chops: this frame is a write of its own
    payload_len: int | None = None  # repeat ``payload`` up to this many octets


class Message(NamedTuple):
    """Autobahn's ``sendMessage``: one frame, or fragments of ``frag`` octets."""

    payload: bytes
    binary: bool = False
    frag: int | None = None


class CloseFrame(NamedTuple):
    """Autobahn's ``sendClose``/``sendCloseFrame``: a Close frame with this code (None:
    none) and these reason octets, unchecked."""

    code: int | None = None
    reason: bytes = b""


class BeginFrame(NamedTuple):
    """Autobahn's ``beginMessage`` + ``beginMessageFrame(length)``: the header of the
    first frame of a message (FIN = 0); its payload follows in ``FrameData``."""

    length: int
    opcode: int = 1


class FrameData(NamedTuple):
    """Autobahn's ``sendMessageFrameData``: the next octets of the open frame."""

    data: bytes


class EndMessage(NamedTuple):
    """Autobahn's ``endMessage``: an empty continuation frame with FIN = 1."""


class Wait(NamedTuple):
    """Autobahn's ``continueLater(seconds)``.  With a ``label``, the case goes on only
    if the connection is still open, noting ``("timeout", label)``."""

    seconds: float
    label: str | None = None


class Case(NamedTuple):
    id: str
    description: str
    expectation: str
    actions: tuple
    expected: dict
    close: dict
    then: tuple = ("kill", 1.0)
    suppress_close: bool = False
    informational: bool = False


def _close(closed_by_me: bool, codes: tuple[int, ...], require_clean: bool) -> dict:
    return {"closed_by_me": closed_by_me, "codes": codes, "require_clean": require_clean}


CLEAN_NORMAL = _close(True, (NORMAL,), True)
FAIL_1002 = _close(False, (PROTOCOL_ERROR,), False)
FAIL_1007 = _close(False, (INVALID_PAYLOAD,), False)

CASES: list[Case] = []
add = CASES.append

# --- 1 Framing ---------------------------------------------------------------------------

for _n, (_size, _then) in enumerate([(0, 1), (125, 1), (126, 1), (127, 1), (128, 1), (65535, 10),
                                     (65536, 10)], start=1):
    _text = b"*" * _size
    add(Case(f"1.1.{_n}", f"Send text message with payload of length {_size}.",
             "Receive echo'ed text message (with payload as sent). Clean close with normal code.",
             (Frame(1, _text),), {"OK": [("message", _text, False)]}, CLEAN_NORMAL, ("kill", _then)))
add(Case("1.1.8", "Send text message with payload of length 65536. Sent out data in chops of 997 octets.",
         "Receive echo'ed text message (with payload as sent). Clean close with normal code.",
         (Frame(1, b"*" * 65536, chop=997),), {"OK": [("message", b"*" * 65536, False)]}, CLEAN_NORMAL,
         ("kill", 10)))
for _n, (_size, _then) in enumerate([(0, 1), (125, 1), (126, 1), (127, 1), (128, 1), (65535, 10),
                                     (65536, 10)], start=1):
    _bin = b"\xfe" * _size
    add(Case(f"1.2.{_n}", f"Send binary message with payload of length {_size}.",
             "Receive echo'ed binary message (with payload as sent). Clean close with normal code.",
             (Frame(2, _bin),), {"OK": [("message", _bin, True)]}, CLEAN_NORMAL, ("kill", _then)))
add(Case("1.2.8", "Send binary message with payload of length 65536. Sent out data in chops of 997 octets.",
         "Receive echo'ed binary message (with payload as sent). Clean close with normal code.",
         (Frame(2, b"\xfe" * 65536, chop=997),), {"OK": [("message", b"\xfe" * 65536, True)]}, CLEAN_NORMAL,
         ("kill", 10)))

# --- 2 Pings/Pongs ----------------------------------------------------------------------------

_PONG_ECHO = "Pong with payload echo'ed is sent in reply to Ping. Clean close with normal code."
add(Case("2.1", "Send ping without payload.",
         "Pong (with empty payload) is sent in reply to Ping. Clean close with normal code.",
         (Frame(9),), {"OK": [("pong", b"")]}, CLEAN_NORMAL, ("close", 1)))
add(Case("2.2", "Send ping with small text payload.", _PONG_ECHO,
         (Frame(9, b"Hello, world!"),), {"OK": [("pong", b"Hello, world!")]}, CLEAN_NORMAL, ("close", 1)))
add(Case("2.3", "Send ping with small binary (non UTF-8) payload.", _PONG_ECHO,
         (Frame(9, b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"),),
         {"OK": [("pong", b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff")]}, CLEAN_NORMAL, ("close", 1)))
add(Case("2.4", "Send ping with binary payload of 125 octets.", _PONG_ECHO,
         (Frame(9, b"\xfe" * 125),), {"OK": [("pong", b"\xfe" * 125)]}, CLEAN_NORMAL, ("close", 1)))
add(Case("2.5", "Send ping with binary payload of 126 octets.",
         "Connection is failed immediately (1002/Protocol Error), since control frames are only allowed "
         "to have payload up to and including 125 octets.",
         (Frame(9, b"\xfe" * 126),), {"OK": []}, FAIL_1002, ("kill", 1)))
add(Case("2.6", "Send ping with binary payload of 125 octets, send in octet-wise chops.",
         "Pong with payload echo'ed is sent in reply to Ping. Implementations must be TCP clean. "
         "Clean close with normal code.",
         (Frame(9, b"\xfe" * 125, chop=1),), {"OK": [("pong", b"\xfe" * 125)]}, CLEAN_NORMAL, ("close", 2)))
add(Case("2.7", "Send unsolicited pong without payload. Verify nothing is received. Clean close with normal code.",
         "Nothing.", (Frame(10), CloseFrame(NORMAL)), {"OK": []}, CLEAN_NORMAL, ("close", 1)))
add(Case("2.8", "Send unsolicited pong with payload. Verify nothing is received. Clean close with normal code.",
         "Nothing.", (Frame(10, b"unsolicited pong payload"), CloseFrame(NORMAL)), {"OK": []}, CLEAN_NORMAL,
         ("close", 1)))
add(Case("2.9", "Send unsolicited pong with payload. Send ping with payload. Verify pong for ping is received.",
         "Nothing in reply to own Pong, but Pong with payload echo'ed in reply to Ping. "
         "Clean close with normal code.",
         (Frame(10, b"unsolicited pong payload"), Frame(9, b"ping payload")),
         {"OK": [("pong", b"ping payload")]}, CLEAN_NORMAL, ("close", 1)))
_TEN = [f"payload-{i}".encode() for i in range(10)]
_TEN_EXP = ("Pongs for our Pings with all the payloads. Note: This is not required by the Spec .. "
            "but we check for this behaviour anyway. Clean close with normal code.")
add(Case("2.10", "Send 10 Pings with payload.", _TEN_EXP, tuple(Frame(9, p) for p in _TEN),
         {"OK": [("pong", p) for p in _TEN]}, CLEAN_NORMAL, ("close", 3)))
add(Case("2.11", "Send 10 Pings with payload. Send out octets in octet-wise chops.", _TEN_EXP,
         tuple(Frame(9, p, chop=1) for p in _TEN), {"OK": [("pong", p) for p in _TEN]}, CLEAN_NORMAL,
         ("close", 3)))

# --- 3 Reserved bits ----------------------------------------------------------------------------

_HELLO = b"Hello, world!"
_RSV_FAIL = ("Echo for first message is received, but then connection is failed immediately, since RSV "
             "must be 0, when no extension defining RSV meaning has been negotiated. The Pong is not received.")
add(Case("3.1", "Send small text message with RSV = 1.",
         "The connection is failed immediately (1002/protocol error), since RSV must be 0, when no "
         "extension defining RSV meaning has been negotiated.",
         (Frame(1, _HELLO, rsv=1),), {"OK": []}, FAIL_1002))
add(Case("3.2", "Send small text message, then send again with RSV = 2, then send Ping.", _RSV_FAIL,
         (Frame(1, _HELLO), Frame(1, _HELLO, rsv=2), Frame(9)),
         {"OK": [("message", _HELLO, False)], "NON-STRICT": []}, FAIL_1002))
add(Case("3.3", "Send small text message, then send again with RSV = 3, then send Ping. "
         "Octets are sent in frame-wise chops.", _RSV_FAIL,
         (Frame(1, _HELLO, sync=True), Frame(1, _HELLO, rsv=3, sync=True), Frame(9, sync=True)),
         {"OK": [("message", _HELLO, False)], "NON-STRICT": []}, FAIL_1002))
add(Case("3.4", "Send small text message, then send again with RSV = 4, then send Ping. "
         "Octets are sent in octet-wise chops.", _RSV_FAIL,
         (Frame(1, _HELLO, chop=1), Frame(1, _HELLO, rsv=4, chop=1), Frame(9, chop=1)),
         {"OK": [("message", _HELLO, False)], "NON-STRICT": []}, FAIL_1002))
add(Case("3.5", "Send small binary message with RSV = 5.",
         "The connection is failed immediately, since RSV must be 0.",
         (Frame(2, b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff", rsv=5),), {"OK": []}, FAIL_1002))
add(Case("3.6", "Send Ping with RSV = 6.", "The connection is failed immediately, since RSV must be 0.",
         # (sic: the case sends opcode 2, a binary frame, not a ping)
         (Frame(2, _HELLO, rsv=6),), {"OK": []}, FAIL_1002))
add(Case("3.7", "Send Close with RSV = 7.", "The connection is failed immediately, since RSV must be 0.",
         (Frame(8, rsv=7),), {"OK": []}, FAIL_1002))

# --- 4 Opcodes ------------------------------------------------------------------------------------

_OP_FAIL = ("Echo for first message is received, but then connection is failed immediately, since "
            "reserved opcode frame is used. A Pong is not received.")
add(Case("4.1.1", "Send frame with reserved non-control Opcode = 3.", "The connection is failed immediately.",
         (Frame(3),), {"OK": []}, FAIL_1002))
add(Case("4.1.2", "Send frame with reserved non-control Opcode = 4 and non-empty payload.",
         "The connection is failed immediately.", (Frame(4, b"reserved opcode payload"),), {"OK": []}, FAIL_1002))
add(Case("4.1.3", "Send small text message, then send frame with reserved non-control Opcode = 5, then send Ping.",
         _OP_FAIL, (Frame(1, _HELLO), Frame(5), Frame(9)),
         {"OK": [("message", _HELLO, False)], "NON-STRICT": []}, FAIL_1002))
add(Case("4.1.4", "Send small text message, then send frame with reserved non-control Opcode = 6 and "
         "non-empty payload, then send Ping.", _OP_FAIL, (Frame(1, _HELLO), Frame(6, _HELLO), Frame(9)),
         {"OK": [("message", _HELLO, False)], "NON-STRICT": []}, FAIL_1002))
add(Case("4.1.5", "Send small text message, then send frame with reserved non-control Opcode = 7 and "
         "non-empty payload, then send Ping.", _OP_FAIL,
         (Frame(1, _HELLO, chop=1), Frame(7, _HELLO, chop=1), Frame(9, chop=1)),
         {"OK": [("message", _HELLO, False)], "NON-STRICT": []}, FAIL_1002))
add(Case("4.2.1", "Send frame with reserved control Opcode = 11.", "The connection is failed immediately.",
         (Frame(11),), {"OK": []}, FAIL_1002))
add(Case("4.2.2", "Send frame with reserved control Opcode = 12 and non-empty payload.",
         "The connection is failed immediately.", (Frame(12, b"reserved opcode payload"),), {"OK": []}, FAIL_1002))
add(Case("4.2.3", "Send small text message, then send frame with reserved control Opcode = 13, then send Ping.",
         _OP_FAIL, (Frame(1, _HELLO), Frame(13), Frame(9)),
         {"OK": [("message", _HELLO, False)], "NON-STRICT": []}, FAIL_1002))
add(Case("4.2.4", "Send small text message, then send frame with reserved control Opcode = 14 and "
         "non-empty payload, then send Ping.", _OP_FAIL, (Frame(1, _HELLO), Frame(14, _HELLO), Frame(9)),
         {"OK": [("message", _HELLO, False)], "NON-STRICT": []}, FAIL_1002))
add(Case("4.2.5", "Send small text message, then send frame with reserved control Opcode = 15 and "
         "non-empty payload, then send Ping.", _OP_FAIL,
         (Frame(1, _HELLO, chop=1), Frame(15, _HELLO, chop=1), Frame(9, chop=1)),
         {"OK": [("message", _HELLO, False)], "NON-STRICT": []}, FAIL_1002))

# --- 5 Fragmentation ---------------------------------------------------------------------------------

_F1, _F2 = b"fragment1", b"fragment2"
_CTRL_FRAG = "Connection is failed immediately, since control message MUST NOT be fragmented."
_ECHOED = "Message is processed and echo'ed back to us."
_PONG_THEN = "A pong is received, then the message is echo'ed back to us."
_NOTHING = "The connection is failed immediately, since there is no message to continue."
add(Case("5.1", "Send Ping fragmented into 2 fragments.", _CTRL_FRAG,
         (Frame(9, _F1, fin=False), Frame(0, _F2)), {"OK": []}, FAIL_1002))
add(Case("5.2", "Send Pong fragmented into 2 fragments.", _CTRL_FRAG,
         (Frame(10, _F1, fin=False), Frame(0, _F2)), {"OK": []}, FAIL_1002))
add(Case("5.3", "Send text Message fragmented into 2 fragments.", _ECHOED,
         (Frame(1, _F1, fin=False), Frame(0, _F2)), {"OK": [("message", _F1 + _F2, False)]}, CLEAN_NORMAL,
         ("close", 1)))
add(Case("5.4", "Send text Message fragmented into 2 fragments, octets are sent in frame-wise chops.", _ECHOED,
         (Frame(1, _F1, fin=False, sync=True), Frame(0, _F2, sync=True)),
         {"OK": [("message", _F1 + _F2, False)]}, CLEAN_NORMAL, ("close", 1)))
add(Case("5.5", "Send text Message fragmented into 2 fragments, octets are sent in octet-wise chops.", _ECHOED,
         (Frame(1, _F1, fin=False, chop=1), Frame(0, _F2, chop=1)),
         {"OK": [("message", _F1 + _F2, False)]}, CLEAN_NORMAL, ("close", 1)))
add(Case("5.6", "Send text Message fragmented into 2 fragments, one ping with payload in-between.", _PONG_THEN,
         (Frame(1, _F1, fin=False), Frame(9, b"ping payload"), Frame(0, _F2)),
         {"OK": [("pong", b"ping payload"), ("message", _F1 + _F2, False)]}, CLEAN_NORMAL, ("close", 1)))
add(Case("5.7", "Send text Message fragmented into 2 fragments, one ping with payload in-between. "
         "Octets are sent in frame-wise chops.", _PONG_THEN,
         (Frame(1, _F1, fin=False, sync=True), Frame(9, b"ping payload", sync=True), Frame(0, _F2, sync=True)),
         {"OK": [("pong", b"ping payload"), ("message", _F1 + _F2, False)]}, CLEAN_NORMAL, ("close", 1)))
add(Case("5.8", "Send text Message fragmented into 2 fragments, one ping with payload in-between. "
         "Octets are sent in octet-wise chops.", _PONG_THEN,
         (Frame(1, _F1, fin=False, chop=1), Frame(9, b"ping payload", chop=1), Frame(0, _F2, chop=1)),
         {"OK": [("pong", b"ping payload"), ("message", _F1 + _F2, False)]}, CLEAN_NORMAL, ("close", 1)))
_NONCONT = b"non-continuation payload"
for _id, _fin, _how, _kw in [("5.9", True, "sent in one chop", {}), ("5.10", True, "sent in per-frame chops",
                                                                     {"sync": True}),
                             ("5.11", True, "sent in octet-wise chops", {"chop": 1}),
                             ("5.12", False, "sent in one chop", {}), ("5.13", False, "sent in per-frame chops",
                                                                      {"sync": True}),
                             ("5.14", False, "sent in octet-wise chops", {"chop": 1})]:
    add(Case(_id, f"Send unfragmented Text Message after Continuation Frame with FIN = {str(_fin).lower()}, "
             f"where there is nothing to continue, {_how}.", _NOTHING,
             (Frame(0, _NONCONT, fin=_fin, **_kw), Frame(1, _HELLO, **_kw)), {"OK": []}, FAIL_1002))
add(Case("5.15", "Send text Message fragmented into 2 fragments, then Continuation Frame with FIN = false "
         "where there is nothing to continue, then unfragmented Text Message, all sent in one chop.", _NOTHING,
         (Frame(1, _F1, fin=False), Frame(0, _F2), Frame(0, b"fragment3", fin=False), Frame(1, b"fragment4")),
         {"OK": [("message", _F1 + _F2, False)], "NON-STRICT": []}, FAIL_1002))
add(Case("5.16", "Repeated 2x: Continuation Frame with FIN = false (where there is nothing to continue), "
         "then text Message fragmented into 2 fragments.", _NOTHING,
         (Frame(0, _F1, fin=False), Frame(1, _F2, fin=False), Frame(0, b"fragment3")) * 2, {"OK": []}, FAIL_1002))
add(Case("5.17", "Repeated 2x: Continuation Frame with FIN = true (where there is nothing to continue), "
         "then text Message fragmented into 2 fragments.", _NOTHING,
         (Frame(0, _F1), Frame(1, _F2, fin=False), Frame(0, b"fragment3")) * 2, {"OK": []}, FAIL_1002))
add(Case("5.18", "Send text Message fragmented into 2 fragments, with both frame opcodes set to text, "
         "sent in one chop.",
         "The connection is failed immediately, since all data frames after the initial data frame must "
         "have opcode 0.", (Frame(1, _F1, fin=False), Frame(1, _F2)), {"OK": []}, FAIL_1002))
_FRAGS = [b"fragment1", b"fragment2", b"fragment3", b"fragment4", b"fragment5"]
_PINGS = [b"pongme 1!", b"pongme 2!"]
for _id, _sync in (("5.19", False), ("5.20", True)):
    add(Case(_id, "A fragmented text message is sent in multiple frames. After sending the first 2 frames of the "
             "text message, a Ping is sent. Then we wait 1s, then we send 2 more text fragments, another Ping "
             "and then the final text fragment. Everything is legal."
             + (" All frames are sent with SYNC = True (frame-wise chops)." if _sync else ""),
             "The peer immediately answers the first Ping before it has received the last text message "
             "fragment. The peer pong's back the Ping's payload exactly, and echo's the payload of the "
             "fragmented message back to us.",
             (Frame(1, _FRAGS[0], fin=False, sync=_sync), Frame(0, _FRAGS[1], fin=False, sync=_sync),
              Frame(9, _PINGS[0], sync=_sync), Wait(1),
              Frame(0, _FRAGS[2], fin=False, sync=_sync), Frame(0, _FRAGS[3], fin=False, sync=_sync),
              Frame(9, _PINGS[1], sync=_sync), Frame(0, _FRAGS[4], sync=_sync)),
             {"OK": [("pong", _PINGS[0]), ("pong", _PINGS[1]), ("message", b"".join(_FRAGS), False)]},
             CLEAN_NORMAL, ("close", 1)))

# --- 6 UTF-8 handling -------------------------------------------------------------------------------

_ECHO_BACK = "The message is echo'ed back to us."
_NOT_UTF8 = "The connection is failed immediately, since the payload is not valid UTF-8."
add(Case("6.1.1", "Send text message of length 0.", "A message is echo'ed back to us (with empty payload).",
         (Frame(1, b""),), {"OK": [("message", b"", False)]}, CLEAN_NORMAL, ("close", 1)))
add(Case("6.1.2", "Send fragmented text message, 3 fragments each of length 0.",
         "A message is echo'ed back to us (with empty payload).",
         (Frame(1, b"", fin=False), Frame(0, b"", fin=False), Frame(0, b"")), {"OK": [("message", b"", False)]},
         CLEAN_NORMAL, ("close", 1)))
add(Case("6.1.3", "Send fragmented text message, 3 fragments, first and last of length 0, middle non-empty.",
         "A message is echo'ed back to us (with payload = payload of middle fragment).",
         (Frame(1, b"", fin=False), Frame(0, b"middle frame payload", fin=False), Frame(0, b"")),
         {"OK": [("message", b"middle frame payload", False)]}, CLEAN_NORMAL, ("close", 1)))
_HELLO_UTF8 = "Hello-µ@ßöäüàá-UTF-8!!".encode("utf-8")
_KOSME = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"  # κόσμε
add(Case("6.2.1", "Send a valid UTF-8 text message in one fragment.", _ECHO_BACK,
         (Message(_HELLO_UTF8),), {"OK": [("message", _HELLO_UTF8, False)]}, CLEAN_NORMAL, ("close", 1)))
add(Case("6.2.2", "Send a valid UTF-8 text message in two fragments, fragmented on UTF-8 code point boundary.",
         _ECHO_BACK, (Frame(1, "Hello-µ@ßöä".encode(), fin=False), Frame(0, "üàá-UTF-8!!".encode())),
         {"OK": [("message", _HELLO_UTF8, False)]}, CLEAN_NORMAL, ("close", 1)))
add(Case("6.2.3", "Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on "
         "positions which are not code point ends.", _ECHO_BACK, (Message(_HELLO_UTF8, frag=1),),
         {"OK": [("message", _HELLO_UTF8, False)]}, CLEAN_NORMAL, ("close", 1)))
add(Case("6.2.4", "Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on "
         "positions which are not code point ends.", _ECHO_BACK, (Message(_KOSME, frag=1),),
         {"OK": [("message", _KOSME, False)]}, CLEAN_NORMAL, ("close", 1)))
_BAD = _KOSME + b"\xed\xa0\x80" + b"edited"  # invalid exactly on byte 12 (\xa0)
add(Case("6.3.1", "Send invalid UTF-8 text message unfragmented.", _NOT_UTF8, (Message(_BAD),), {"OK": []},
         FAIL_1007))
add(Case("6.3.2", "Send invalid UTF-8 text message in fragments of 1 octet, resulting in frames ending on "
         "positions which are not code point ends.", _NOT_UTF8, (Message(_BAD, frag=1),), {"OK": []}, FAIL_1007))
_P1, _P2, _P3 = _KOSME, b"\xf4\x90\x80\x80", b"edited"  # part 2: 0x110000, out of range
_P = _P1 + _P2 + _P3
_FAIL_FAST = {"OK": [("timeout", "A")], "NON-STRICT": [("timeout", "A"), ("timeout", "B")]}
_FF_FRAMES = ("The first frame is accepted, we expect to timeout on the first wait. The 2nd frame should be "
              "rejected immediately (fail fast on UTF-8). If we timeout, we expect the connection is failed at "
              "least then, since the complete message payload is not valid UTF-8.")
_FF_CHOPS = _FF_FRAMES.replace("first frame", "first chop").replace("2nd frame", "2nd chop")
add(Case("6.4.1", "Send invalid UTF-8 text message in 3 fragments (frames). First frame payload is valid, then "
         "wait, then 2nd frame which contains the payload making the sequence invalid, then wait, then 3rd "
         "frame with rest. PART1 and PART3 are valid UTF-8 in themselves, PART2 is 0x110000 encoded as in "
         "the UTF-8 integer encoding scheme, but the codepoint is invalid (out of range).", _FF_FRAMES,
         (Frame(1, _P1, fin=False), Wait(1, "A"), Frame(0, _P2, fin=False), Wait(1, "B"), Frame(0, _P3)),
         _FAIL_FAST, FAIL_1007))
add(Case("6.4.2", "Same as Case 6.4.1, but in 2nd frame, we send only up to and including the octet making the "
         "complete payload invalid.", _FF_FRAMES,
         (Frame(1, _P[:12], fin=False), Wait(1, "A"), Frame(0, _P[12:13], fin=False), Wait(1, "B"),
          Frame(0, _P[13:])), _FAIL_FAST, FAIL_1007))
add(Case("6.4.3", "Same as Case 6.4.1, but we send message not in 3 frames, but in 3 chops of the same message "
         "frame.", _FF_CHOPS,
         (BeginFrame(len(_P)), FrameData(_P1), Wait(1, "A"), FrameData(_P2), Wait(1, "B"), FrameData(_P3),
          EndMessage()), _FAIL_FAST, FAIL_1007))
add(Case("6.4.4", "Same as Case 6.4.2, but we send message not in 3 frames, but in 3 chops of the same message "
         "frame.", _FF_CHOPS,
         (BeginFrame(len(_P)), FrameData(_P[:12]), Wait(1, "A"), FrameData(_P[12:13]), Wait(1, "B"),
          FrameData(_P[13:]), EndMessage()), _FAIL_FAST, FAIL_1007))

# 6.5 to 6.23: the sequences of Markus Kuhn's UTF-8 decoder stress test (case6_x_x.py),
# each sent as one text frame; (valid, payload).
_K = [b"\xc0", b"\xe0\x80", b"\xf0\x80\x80", b"\xf8\x80\x80\x80", b"\xfc\x80\x80\x80\x80",
      b"\xdf", b"\xef\xbf", b"\xf7\xbf\xbf", b"\xfb\xbf\xbf\xbf", b"\xfd\xbf\xbf\xbf\xbf"]
_NONCHARS = [b"\xef\xbf\xbe", b"\xef\xbf\xbf"] + [
    z1 + z2 + b"\xbf" + z3
    for z1 in (b"\xf0", b"\xf1", b"\xf2", b"\xf3", b"\xf4")
    for z2 in (b"\x8f", b"\x9f", b"\xaf", b"\xbf") if not (z1 == b"\xf4" and z2 != b"\x8f")
    for z3 in (b"\xbe", b"\xbf") if z1 + z2 + b"\xbf" + z3 not in (b"\xf0\x8f\xbf\xbe", b"\xf0\x8f\xbf\xbf")]
UTF8_SEQUENCES: list[tuple[str, list[tuple[bool, bytes]]]] = [
    ("Some valid UTF-8 sequences",
     [(True, b"hello\x24world"), (True, b"hello\xc2\xa2world"), (True, b"hello\xe2\x82\xacworld"),
      (True, b"hello\xf0\xa4\xad\xa2world"), (True, _KOSME)]),
    ("All prefixes of a valid UTF-8 string that contains multi-byte code points",
     # valid where the prefix ends on a code point boundary (Autobahn's validator says so)
     [(i in (2, 5, 7, 9, 11), _KOSME[:i]) for i in range(1, 12)]),
    ("First possible sequence of a certain length",
     [(True, b"\x00"), (True, b"\xc2\x80"), (True, b"\xe0\xa0\x80"), (True, b"\xf0\x90\x80\x80")]),
    ("First possible sequence length 5/6 (invalid codepoints)",
     [(False, b"\xf8\x88\x80\x80\x80"), (False, b"\xfc\x84\x80\x80\x80\x80")]),
    ("Last possible sequence of a certain length",
     [(True, b"\x7f"), (True, b"\xdf\xbf"), (True, b"\xef\xbf\xbf"), (True, b"\xf4\x8f\xbf\xbf")]),
    ("Last possible sequence length 4/5/6 (invalid codepoints)",
     [(False, b"\xf7\xbf\xbf\xbf"), (False, b"\xfb\xbf\xbf\xbf\xbf"), (False, b"\xfd\xbf\xbf\xbf\xbf\xbf")]),
    ("Other boundary conditions",
     [(True, b"\xed\x9f\xbf"), (True, b"\xee\x80\x80"), (True, b"\xef\xbf\xbd"), (True, b"\xf4\x8f\xbf\xbf"),
      (False, b"\xf4\x90\x80\x80")]),
    ("Unexpected continuation bytes",
     [(False, b"\x80"), (False, b"\xbf"), (False, b"\x80\xbf"), (False, b"\x80\xbf\x80"),
      (False, b"\x80\xbf\x80\xbf"), (False, b"\x80\xbf\x80\xbf\x80"), (False, b"\x80\xbf\x80\xbf\x80\xbf"),
      (False, bytes(range(0x80, 0xbf)))]),
    ("Lonely start characters",
     [(False, b"".join(bytes([i, 0x20]) for i in range(lo, hi)))
      for lo, hi in ((0xc0, 0xdf), (0xe0, 0xef), (0xf0, 0xf7), (0xf8, 0xfb), (0xfc, 0xfd))]),
    ("Sequences with last continuation byte missing", [(False, k) for k in _K]),
    ("Concatenation of incomplete sequences", [(False, b"".join(_K))]),
    ("Impossible bytes", [(False, b"\xfe"), (False, b"\xff"), (False, b"\xfe\xfe\xff\xff")]),
    ("Examples of an overlong ASCII character",
     [(False, b"\xc0\xaf"), (False, b"\xe0\x80\xaf"), (False, b"\xf0\x80\x80\xaf"),
      (False, b"\xf8\x80\x80\x80\xaf"), (False, b"\xfc\x80\x80\x80\x80\xaf")]),
    ("Maximum overlong sequences",
     [(False, b"\xc1\xbf"), (False, b"\xe0\x9f\xbf"), (False, b"\xf0\x8f\xbf\xbf"),
      (False, b"\xf8\x87\xbf\xbf\xbf"), (False, b"\xfc\x83\xbf\xbf\xbf\xbf")]),
    ("Overlong representation of the NUL character",
     [(False, b"\xc0\x80"), (False, b"\xe0\x80\x80"), (False, b"\xf0\x80\x80\x80"),
      (False, b"\xf8\x80\x80\x80\x80"), (False, b"\xfc\x80\x80\x80\x80\x80")]),
    ("Single UTF-16 surrogates",
     [(False, b"\xed\xa0\x80"), (False, b"\xed\xad\xbf"), (False, b"\xed\xae\x80"), (False, b"\xed\xaf\xbf"),
      (False, b"\xed\xb0\x80"), (False, b"\xed\xbe\x80"), (False, b"\xed\xbf\xbf")]),
    ("Paired UTF-16 surrogates",
     [(False, b"\xed\xa0\x80\xed\xb0\x80"), (False, b"\xed\xa0\x80\xed\xbf\xbf"),
      (False, b"\xed\xad\xbf\xed\xb0\x80"), (False, b"\xed\xad\xbf\xed\xbf\xbf"),
      (False, b"\xed\xae\x80\xed\xb0\x80"), (False, b"\xed\xae\x80\xed\xbf\xbf"),
      (False, b"\xed\xaf\xbf\xed\xb0\x80"), (False, b"\xed\xaf\xbf\xed\xbf\xbf")]),
    ("Non-character code points (valid UTF-8)", [(True, z) for z in _NONCHARS]),
    ("Unicode specials (i.e. replacement char)",
     [(True, b"\xef\xbf" + bytes([b])) for b in range(0xb9, 0xc0)]),
]
for _i, (_title, _seqs) in enumerate(UTF8_SEQUENCES, start=5):
    for _j, (_valid, _payload) in enumerate(_seqs, start=1):
        if _valid:
            add(Case(f"6.{_i}.{_j}", f"{_title}: send a text message with payload which is valid UTF-8 in one "
                     f"fragment. Payload: 0x{_payload.hex()}", _ECHO_BACK, (Message(_payload),),
                     {"OK": [("message", _payload, False)]}, CLEAN_NORMAL, ("kill", 0.5)))
        else:
            add(Case(f"6.{_i}.{_j}", f"{_title}: send a text message with payload which is not valid UTF-8 in "
                     f"one fragment. Payload: 0x{_payload.hex()}", _NOT_UTF8, (Message(_payload),), {"OK": []},
                     FAIL_1007, ("kill", 0.5)))

# --- 7 Close handling ----------------------------------------------------------------------------------

_HW = b"Hello World!"
add(Case("7.1.1", "Send a message followed by a close frame",
         "Echoed message followed by clean close with normal code.",
         (Frame(1, _HW),), {"OK": [("message", _HW, False)]}, CLEAN_NORMAL))
add(Case("7.1.2", "Send two close frames", "Clean close with normal code. Second close frame ignored.",
         (CloseFrame(NORMAL), Frame(8)), {"OK": []}, CLEAN_NORMAL, suppress_close=True))
add(Case("7.1.3", "Send a ping after close message", "Clean close with normal code, no pong.",
         (CloseFrame(NORMAL), Frame(9)), {"OK": []}, CLEAN_NORMAL, suppress_close=True))
add(Case("7.1.4", "Send text message after sending a close frame", "Clean close with normal code. Text message "
         "ignored.", (CloseFrame(NORMAL), Frame(1, _HW)), {"OK": []}, CLEAN_NORMAL, suppress_close=True))
add(Case("7.1.5", "Send message fragment1 followed by close then fragment", "Clean close with normal code.",
         (Frame(1, _F1, fin=False), CloseFrame(NORMAL), Frame(0, _F2)), {"OK": []}, CLEAN_NORMAL,
         suppress_close=True))
add(Case("7.1.6", "Send 256K message followed by close then a ping",
         "Case outcome depends on implementation defined close behavior. Message and close frame are sent back "
         "to back. If the close frame is processed before the text message write is complete (as can happen in "
         "asynchronous processing models) the close frame is processed first and the text message may not be "
         "received or may only be partially received.",
         (Frame(1, b"BAsd7&jh23", payload_len=256 * 2**10), Frame(1, _HW), CloseFrame(NORMAL), Frame(9)),
         {"OK": [("message", _HW, False)], "NON-STRICT": []}, CLEAN_NORMAL, suppress_close=True,
         informational=True))
add(Case("7.3.1", "Send a close frame with payload length 0 (no close code, no close reason)",
         "Clean close with normal code.", (CloseFrame(),), {"OK": []}, CLEAN_NORMAL, suppress_close=True))
add(Case("7.3.2", "Send a close frame with payload length 1", "Clean close with protocol error or drop TCP.",
         (CloseFrame(None, b"a"),), {"OK": []}, _close(True, (PROTOCOL_ERROR,), False), suppress_close=True))
add(Case("7.3.3", "Send a close frame with payload length 2 (regular close with a code)",
         "Clean close with normal code.", (CloseFrame(NORMAL),), {"OK": []}, CLEAN_NORMAL, suppress_close=True))
add(Case("7.3.4", "Send a close frame with close code and close reason", "Clean close with normal code.",
         (CloseFrame(NORMAL, b"Hello World!"),), {"OK": []}, CLEAN_NORMAL, suppress_close=True))
add(Case("7.3.5", "Send a close frame with close code and close reason of maximum length (123)",
         "Clean close with normal code.", (CloseFrame(NORMAL, b"*" * 123),), {"OK": []}, CLEAN_NORMAL,
         suppress_close=True))
add(Case("7.3.6", "Send a close frame with close code and close reason which is too long (124) - total frame "
         "payload 126 octets", "Clean close with protocol error code or dropped TCP connection.",
         (CloseFrame(NORMAL, b"*" * 124),), {"OK": []}, _close(True, (PROTOCOL_ERROR,), False),
         suppress_close=True))
add(Case("7.5.1", "Send a close frame with invalid UTF8 payload",
         "Clean close with protocol error or invalid utf8 code or dropped TCP.",
         (CloseFrame(NORMAL, _BAD),), {"OK": []}, _close(True, (PROTOCOL_ERROR, INVALID_PAYLOAD), False),
         suppress_close=True))
for _n, _code in enumerate([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999], 1):
    add(Case(f"7.7.{_n}", f"Send close with valid close code {_code}", "Clean close with normal or echoed code",
             (CloseFrame(_code),), {"OK": []}, _close(True, (NORMAL, _code), True), suppress_close=True))
for _n, _code in enumerate([0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999], 1):
    add(Case(f"7.9.{_n}", f"Send close with invalid close code {_code}",
             "Clean close with protocol error code or drop TCP", (CloseFrame(_code),), {"OK": []},
             _close(True, (PROTOCOL_ERROR,), False), suppress_close=True))
for _id, _code in (("7.13.1", 5000), ("7.13.2", 65535)):
    add(Case(_id, f"Send close with close code {_code}", "Actual events are undefined by the spec.",
             (CloseFrame(_code),), {"OK": []}, _close(True, (NORMAL, _code, PROTOCOL_ERROR), False),
             suppress_close=True, informational=True))

# --- 10 Misc ---------------------------------------------------------------------------------------

add(Case("10.1.1", "Send text message with payload of length 65536 auto-fragmented with autoFragmentSize = 1300.",
         "Receive echo'ed text message (with payload as sent and transmitted frame counts as expected). "
         "Clean close with normal code.",
         (Message(b"*" * 65536, frag=1300),), {"OK": [("message", b"*" * 65536, False)]}, CLEAN_NORMAL,
         ("kill", 10)))

BY_ID = {c.id: c for c in CASES}
IDS = [c.id for c in CASES]
