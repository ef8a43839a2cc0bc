"""Fuzz the recording loader: recording.from_document on json.loads of the input,
and recording.load (which reads the file a piece at a time) on the same bytes written
to a file, which must agree; a document that loads is
then dissected and every Step rendered (a recording is untrusted input end to end:
replay and export read whatever file they are given).

Documented outcome for a bad file: RecordingError with a message.
"""

import os
import tempfile

import atheris

from _common import main

with atheris.instrument_imports(include=["wssviz"]):
    import wssviz.dissect.app  # noqa: F401
    import wssviz.dissect.tls  # noqa: F401
    from wssviz import plain, recording
    from wssviz.dissect import dissect
    from wssviz.recording import RecordingError

FD, PATH = tempfile.mkstemp(prefix="wssviz-fuzz-", suffix=".json")
os.close(FD)


def one_input(data: bytes) -> None:
    with open(PATH, "wb") as f:
        f.write(data)
    try:
        cap = recording.load(PATH)  # read a piece at a time
        said = ""
    except RecordingError as exc:
        cap, said = None, str(exc)
    try:
        import json

        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):  # JSONDecodeError, not UTF-8: load said so above
        return
    try:
        cap2 = recording.from_document(doc)
    except RecordingError:
        return
    # the file read a piece at a time holds what the whole document holds (a key given
    # again after the events, which json.loads lets the last one win, is refused)
    assert cap is not None or "appears twice" in said, said
    assert cap is None or cap.events == cap2.events, "pieces and whole disagree"
    recording.to_document(cap2)
    if len(data) < 20000:
        for step in dissect(cap2):
            plain.to_json(step, "en")


if __name__ == "__main__":
    main("recording", one_input, expected=(RecordingError,))
