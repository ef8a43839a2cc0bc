"""Fuzz the server's side of the opening handshake: head_length, parse_request,
check_request (with the permessage-deflate negotiation a server does), and the
rendering of every problem's message in both languages.

Input: the bytes a client sent.  head_length is also asked about every prefix
that ends in CR or LF (how a server reads a head as it arrives).
"""

import atheris

from _common import main

with atheris.instrument_imports(include=["wssviz"]):
    from wssviz.core import deflate
    from wssviz.core.handshake import (HandshakeError, build_error_response, build_response,
                                       check_request, head_length, parse_request)
    from wssviz.explain import render


def one_input(data: bytes) -> None:
    for i, b in enumerate(data[:512]):
        if b in (10, 13):
            try:
                head_length(data[:i + 1])
            except HandshakeError:
                break
    try:
        n = head_length(data)
    except HandshakeError as e:
        render.text(e.msg, "en")
        n = None
    try:
        req = parse_request(data if n is None else data[:n])
    except HandshakeError as e:
        render.text(e.msg, "zh")
        return
    req.get("Host"), req.tokens("Connection")
    for origins in (None, ["https://example.com", None]):
        check = check_request(req, allowed_origins=origins, supported_protocols=("chat", "superchat"),
                              supported_extensions=lambda v: (deflate.negotiate(v) or (None, None))[1])
        for p in check.problems:
            render.text(p.msg, "en")
            render.text(p.msg, "zh")
        if check.ok:
            build_response(check)
        else:
            build_error_response(check.status, "; ".join(p.detail for p in check.problems))
    value = req.get("Sec-WebSocket-Extensions")
    if value is not None:
        deflate.parse_offer(value)


if __name__ == "__main__":
    main("request", one_input, expected=(HandshakeError,))
