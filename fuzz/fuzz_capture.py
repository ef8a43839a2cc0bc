"""Fuzz the pcap/pcapng importer: read_capture_file on the input written to a file
(our pcap and pcapng reader, link/IP/TCP decoding, reassembly, Decryption
Secrets Blocks), then dissect each connection found and render its Steps.

Documented outcome for a bad file: CaptureImportError (a ValueError) with the rule
and the byte offset.
"""

import os
import tempfile

import atheris

from _common import main

with atheris.instrument_imports(include=["wssviz"]):
    import wssviz.dissect.app  # noqa: F401
    import wssviz.dissect.tls  # noqa: F401
    from wssviz import pcap_import, plain
    from wssviz.dissect import dissect
    from wssviz.pcap_import import CaptureImportError

FD, PATH = tempfile.mkstemp(prefix="wssviz-fuzz-", suffix=".pcap")
os.close(FD)


def one_input(data: bytes) -> None:
    with open(PATH, "wb") as f:
        f.write(data)
    for conn in pcap_import.read_capture_file(PATH):
        for step in dissect(conn.capture):
            plain.to_json(step, "en")


if __name__ == "__main__":
    main("capture", one_input, expected=(CaptureImportError,))
