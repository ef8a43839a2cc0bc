"""Recordings: raw material in, the same Steps out, anywhere and any time."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from wssviz import explain, recording
from wssviz.dissect import dissect
from wssviz.live.pair import LiveSession
from wssviz.live.settings import Settings
from wssviz.plain import to_json


@pytest.fixture(scope="module")
def session():
    s = LiveSession(Settings())
    s.run_all()
    return s


def test_round_trip_rebuilds_identical_steps(session, tmp_path):
    path = tmp_path / "r.json"
    recording.save(session.capture, path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "wssviz-recording" and doc["version"] == 1
    assert "steps" not in doc  # raw material only
    rebuilt = dissect(recording.load(path))
    assert [to_json(s, "en") for s in rebuilt] == [to_json(s, "en") for s in session.steps]


@pytest.mark.parametrize("doc, message", [
    ([], "not a wssviz-recording"),
    ({"format": "wssviz-recording"}, "'version' is missing"),
    ({"format": "wssviz-recording", "version": 99}, "newer than this wssviz"),
    ({"format": "wssviz-recording", "version": 1, "scheme": "wss", "server_name": "x",
      "started": 0, "trust": [], "keylog": [], "events": [{"t": 0, "dir": "up", "hex": ""}]},
     "events[0]: 'dir' must be c2s or s2c"),
    ({"format": "wssviz-recording", "version": 1, "scheme": "wss", "server_name": "x",
      "started": 0, "trust": [], "keylog": [], "events": [{"t": 0, "dir": "c2s", "hex": "zz"}]},
     "events[0]: 'hex' is not hexadecimal"),
])
def test_bad_documents_say_where(doc, message):
    with pytest.raises(recording.RecordingError, match=message.replace("[", r"\[").replace("]", r"\]")
                       .replace("(", r"\(").replace(")", r"\)")):
        recording.from_document(doc)


def test_truncated_recording_keeps_what_was_seen(session):
    doc = recording.to_document(session.capture)
    doc["events"] = doc["events"][:12]
    steps = dissect(recording.from_document(doc))
    assert steps[0].kind == "tcp.connect" and len(steps) >= 5


def test_garbage_bytes_become_an_error_step(session):
    doc = recording.to_document(session.capture)
    doc["events"].insert(3, {"t": 0.001, "dir": "s2c", "hex": "ff" * 8})
    steps = dissect(recording.from_document(doc))
    errors = [s for s in steps if s.kind == "error"]
    assert errors and errors[0].raw("error.layer") == "tls_record"
    assert errors[0].raw("error.rule") == "tls.unknown_content_type"
    assert "RFC 8446" in errors[0].raw("error.rfc")


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "wssviz", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def test_cli_replay_prints_what_the_live_run_printed(tmp_path):
    rec = tmp_path / "r.json"
    live = _cli("run", "--json", "--record", str(rec))
    assert live.returncode == 0, live.stderr
    env = dict(os.environ, TZ="Pacific/Kiritimati")
    replay = _cli("replay", str(rec), "--json", env=env)
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout == live.stdout


@pytest.mark.skipif(shutil.which("faketime") is None, reason="needs faketime (installed by .ci/run)")
def test_replay_years_later_judges_certificates_at_record_time(tmp_path):
    rec = tmp_path / "r.json"
    live = _cli("run", "--json", "--record", str(rec))
    env = dict(os.environ, TZ="America/Los_Angeles")
    later = subprocess.run(["faketime", "-f", "+1100d", sys.executable, "-m", "wssviz", "replay", str(rec), "--json"],
                           capture_output=True, text=True, env=env, timeout=120)
    assert later.returncode == 0, later.stderr
    assert later.stdout == live.stdout
    check = next(json.loads(l) for l in later.stdout.splitlines() if '"tls.cert_check"' in l)
    assert check["status"] == "ok"


def test_cli_reports_a_bad_recording_plainly(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    out = _cli("replay", str(bad), "--json")
    assert out.returncode == 2
    assert "is not JSON" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("content, message", [
    (None, "is a folder"),
    (b"\x00\xff\xfe garbage", "neither a recording (JSON) nor a capture (pcap, pcapng)"),
    (b'{"format": "wssviz-recording", "version": 1, "scheme": "wss", "server_name": "x", "started": 0, '
     b'"settings": "x", "trust": [], "keylog": [], "events": []}', "'settings' must be an object"),
    (b'{"format": "wssviz-recording", "version": 1, "scheme": "wss", "server_name": "x", "started": 0, '
     b'"trust": [123], "keylog": [], "events": []}', "trust[0] must be a string"),
])
def test_cli_bad_inputs_are_one_line_errors(tmp_path, content, message):
    path = tmp_path / "bad.json"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    out = _cli("replay", str(path))  # the interface never opens on a bad file
    assert out.returncode == 2 and message in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_cli_listen_refuses_a_port_out_of_range():
    out = _cli("listen", "--port", "70000")
    assert out.returncode == 2 and "not a TCP port" in out.stderr


# --- recordings made before steps became data -----------------------------------------

OLD = Path(__file__).parent / "data" / "recordings-v1"


@pytest.mark.parametrize("name", ["seed-example", "unmasked-client-frame", "expired-certificate"])
def test_recordings_from_before_steps_became_data_replay_the_same(name):
    """A recording made by the wssviz whose errors were English sentences (its facts
    carry ``rule``/``action`` text, no codes) still gives the same steps: the same
    kinds, sides, statuses and bytes, and its error words shown as they were written."""
    expected = json.loads((OLD / f"{name}.expected.json").read_text(encoding="utf-8"))
    steps = dissect(recording.load(OLD / f"{name}.json"))
    got = [[s.kind, s.direction, s.status,
             hashlib.sha256((s.wire.hex() + "|" + s.data.hex()).encode()).hexdigest()[:16]] for s in steps]
    assert got == expected["steps"]
    errors = [s for s in steps if s.kind == "error"]
    assert [{"rule": explain.value(s.find("error.rule"), lang),
             "action": explain.value(s.find("error.action"), lang)} for s in errors for lang in ("en", "zh")] \
        == [e for e in expected["errors"] for _ in ("en", "zh")]
    for s in steps:  # and every step still reads in Chinese
        assert explain.title(s, "zh") and explain.summary(s, "zh")


# --- every value checked where it enters ------------------------------------------------------

GOOD = {"format": "wssviz-recording", "version": 1, "scheme": "ws", "server_name": "x", "started": 0,
        "trust": [], "keylog": [], "settings": {},
        "events": [{"t": 0, "fact": "tcp.connect", "value": {"client": ["127.0.0.1", 1],
                                                              "server": ["127.0.0.1", 2]}}]}


def _with(**changes):
    doc = json.loads(json.dumps(GOOD))
    for path, value in changes.items():
        where = doc
        keys = path.split("__")
        for k in keys[:-1]:
            where = where[int(k)] if isinstance(where, list) else where[k]
        last = keys[-1]
        if isinstance(where, list):
            where[int(last)] = value
        else:
            where[last] = value
    return doc


@pytest.mark.parametrize("doc, message", [
    (_with(started=float("nan")), "'started' must be a number"),
    (_with(started=-5), "'started' must be a number"),
    (_with(started=10**40), "'started' must be a number"),
    (_with(started=True), "'started' is missing or of the wrong type"),
    (_with(events=[]), "'events' is empty"),
    (_with(events__0__t=float("inf")), "events[0].t must be a number"),
    (_with(events__0__t=-1), "events[0].t must be a number"),
    (_with(events__0__value=[1, 2]), "events[0]: 'value' must be an object"),
    (_with(events__0__value={"client": 5}), "events[0].value.client must be [host, port]"),
    (_with(events__0__value={"client": ["h", 70000]}), "events[0].value.client must be [host, port]"),
    (_with(events__0={"t": 0, "fact": "tls.verdict", "value": {"ok": "yes"}}), "value.ok must be bool"),
    (_with(events__0={"t": 0, "fact": "tcp.close", "value": {"how": "explode"}}), "value.how must be"),
    (_with(events__0={"t": 0, "fact": "error", "value": {"params": "x"}}), "value.params must be dict"),
    (_with(events__0={"t": 0, "fact": "error", "value": {"offset": 1.5}}), "value.offset must be int"),
    (_with(events__0={"t": 0, "fact": 5}), "'fact' must be a name"),
    (_with(events__0={"t": 0, "dir": "c2s", "hex": 12}), "'hex' must be a string"),
    (_with(events__0={"t": 0, "fact": "x", "value": {"a": json.loads("[" * 20 + "]" * 20)}}),
     "nested more than 16 levels"),
    (_with(settings={"client_trust": "demo-ca"}), "settings.client_trust must be list"),
    (_with(settings={"name": 5}), "settings.name must be str"),
    (_with(server_name=""), "'server_name' must be a host name"),
])
def test_values_are_checked_in_depth(doc, message):
    with pytest.raises(recording.RecordingError) as e:
        recording.from_document(doc)
    assert message in str(e.value), str(e.value)


@pytest.mark.parametrize("text, message", [
    ("[" * 100_000 + "]" * 100_000, "nests its JSON values too deeply"),
    ('{"format": "wssviz-recording", "version": 1, "started": ' + "9" * 5000 + "}", "JSON readers refuse"),
    ('{"format": "wssviz-recording", "version": 1, "started": NaN}', "JSON readers refuse"),
])
def test_json_that_no_reader_should_accept(tmp_path, text, message):
    path = tmp_path / "r.json"
    path.write_text(text)
    with pytest.raises(recording.RecordingError, match=message):
        recording.load(path)


def test_a_recording_over_the_size_limit_is_refused_before_reading(tmp_path, monkeypatch):
    from dataclasses import replace

    from wssviz.core import limits

    path = tmp_path / "r.json"
    path.write_text(json.dumps(GOOD))
    monkeypatch.setattr(limits, "LIMITS", replace(limits.LIMITS, max_recording=100))
    with pytest.raises(recording.RecordingError, match="max_recording"):
        recording.load(path)


def test_a_recording_is_read_piece_by_piece_exactly_as_whole(tmp_path, monkeypatch):
    """``open_recording`` reads the file a piece at a time; whatever the piece size,
    the events are those of the whole document, and a fault says the line, column and
    offset json.loads would say."""
    import json as _json

    from wssviz import scenarios
    from wssviz.core.jsonstream import JsonStream
    from wssviz.live.pair import LiveSession

    live = LiveSession(scenarios.load("seed-example"))
    live.run_all()
    path = tmp_path / "r.json"
    recording.save(live.capture, path)
    whole = recording.from_document(_json.loads(path.read_text()))
    for piece in (1, 7, 100, 1 << 18):
        monkeypatch.setattr(JsonStream, "PIECE", piece)
        head, events = recording.open_recording(path)
        assert head.events == [] and head.keylog == whole.keylog and head.settings == whole.settings
        assert list(events) == whole.events, piece
    text = path.read_text()
    cut = tmp_path / "cut.json"
    for at in (len(text) // 2, len(text) - 5):
        cut.write_text(text[:at])
        try:
            _json.loads(text[:at])
        except _json.JSONDecodeError as exc:
            said = f"{exc.msg}: line {exc.lineno}, column {exc.colno}, offset {exc.pos}"
        monkeypatch.setattr(JsonStream, "PIECE", 13)
        with pytest.raises(recording.RecordingError) as got:
            head, events = recording.open_recording(cut)
            list(events)
        assert said in str(got.value)


def test_events_are_read_as_they_are_asked_for(tmp_path):
    """A fault further on in the file is raised only when reading gets there (the
    events before it are given first), naming the event."""
    import json as _json

    from helpers_capture import faulty_recording

    path, capture = faulty_recording(tmp_path, 5, "t", "soon")
    head, events = recording.open_recording(path)
    got = [next(events) for _ in range(5)]
    assert got == capture.events[:5]
    with pytest.raises(recording.RecordingError, match=r"events\[5\]\.t"):
        next(events)
    doc = recording.to_document(capture)
    path.write_text(_json.dumps(doc, indent=1)[:-2] + ', "keylog": []}')
    head, events = recording.open_recording(path)
    with pytest.raises(recording.RecordingError, match="'keylog' appears twice"):
        list(events)
