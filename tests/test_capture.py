"""The Capture's memory budget and the recording written as a session runs."""

from __future__ import annotations

import json

import pytest

from wssviz import recording
from wssviz.capture import Capture
from wssviz.dissect import dissect
from wssviz.live.pair import LiveSession
from wssviz.live.settings import Settings
from wssviz.plain import to_json


def test_over_its_budget_a_capture_lets_bytes_go_once_read():
    cap = Capture(budget=10)
    for i in range(4):
        cap.add_chunk("c2s", i, bytes([i]) * 4)
    cap.release()
    assert [len(c.data) for c in cap.chunks] == [4, 4, 0, 0] and [c.dropped for c in cap.chunks] == [0, 0, 4, 4]
    assert (cap.kept, cap.dropped, cap.whole) == (8, 8, False)
    with pytest.raises(recording.RecordingError, match="memory budget"):
        recording.to_document(cap)
    unlimited = Capture()
    unlimited.add_chunk("c2s", 0, b"x" * 100)
    unlimited.release()
    assert unlimited.whole and unlimited.chunks[0].data == b"x" * 100


def test_a_recording_written_as_it_runs_is_the_whole_session(tmp_path):
    path = tmp_path / "r.json"
    session = LiveSession(Settings())
    rec = recording.Recorder(path)
    session.capture.sink = rec.add
    session.capture.budget = 1000  # most bytes let go in memory; all of them on disk
    steps = session.run_all()
    rec.close(session.capture)
    assert not session.capture.whole and not (tmp_path / "r.json.events").exists()
    doc = json.loads(path.read_text())
    assert doc["format"] == "wssviz-recording" and len(doc["events"]) == len(session.capture.events)
    assert [to_json(s, "en") for s in dissect(recording.load(path))] == [to_json(s, "en") for s in steps]


REQUEST = (b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
RESPONSE = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")


def test_a_ws_frame_wire_is_its_own_bytes_however_the_bytes_came():
    """On ws:// a frame's step carries the frame, not the TCP chunk it came in: the
    output grows with the bytes exchanged, not with frames times chunk size."""
    frames = [b"\x01\x03Hel", b"\x89\x00", b"\x80\x02lo", b"\x82\x01\x00"]
    cap = Capture(scheme="ws", server_name="x")
    cap.add_chunk("c2s", 0.0, REQUEST)
    cap.add_chunk("s2c", 0.1, RESPONSE + b"".join(frames) * 100)  # the 101 and 400 frames at once
    steps = [s for s in dissect(cap) if s.kind == "ws.frame"]
    assert [s.wire for s in steps] == frames * 100 and all(s.data == s.wire for s in steps)
    assert [s.status for s in steps] == ["ok"] * 400
    head = next(s for s in dissect(cap) if s.kind == "http.upgrade_response")
    assert head.wire == RESPONSE
