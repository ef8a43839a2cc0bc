"""Fuzz the TLS dissector (and everything above it: HTTP, WebSocket, the rendering
of each Step) on a wss:// Capture built from the input (see _capture_input.py for
the layout: c2s/s2c chunks, key log lines, facts).

Every Step is rendered as --json and --plain would, in English and Chinese.
"""

import atheris

from _common import main

with atheris.instrument_imports(include=["wssviz"]):
    import wssviz.dissect.app  # noqa: F401  (loaded lazily by the dissector: instrument it now)
    import wssviz.dissect.decrypt  # noqa: F401
    import wssviz.dissect.tls  # noqa: F401
    import wssviz.dissect.tls_messages  # noqa: F401
    import wssviz.dissect.x509  # noqa: F401
    from wssviz import plain
    from wssviz.dissect import dissect
    from _capture_input import capture_from


def one_input(data: bytes) -> None:
    cap = capture_from(data, scheme="wss" if not data[:1] or data[0] & 0x80 == 0 else "ws")
    for step in dissect(cap):
        plain.to_json(step, "en")
        plain.format_step(step, "zh", scheme=cap.scheme)


if __name__ == "__main__":
    main("tls", one_input)
