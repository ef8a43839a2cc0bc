"""Fuzz the client's side of the opening handshake: head_length, parse_response,
check_response (and accept_response for a permessage-deflate answer), and the
rendering of every problem's message.

Input: the bytes a server sent.  The client is the RFC 6455 §1.3 one: key
dGhlIHNhbXBsZSBub25jZQ==, offering the chat and superchat subprotocols and
permessage-deflate.
"""

import atheris

from _common import main

with atheris.instrument_imports(include=["wssviz"]):
    from wssviz.core import deflate
    from wssviz.core.handshake import HandshakeError, check_response, head_length, parse_response
    from wssviz.explain import render

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
OFFER = deflate.DeflateParams(server_max_window_bits=12)


def one_input(data: bytes) -> None:
    try:
        n = head_length(data)
    except HandshakeError as e:
        render.text(e.msg, "en")
        n = None
    try:
        resp = parse_response(data if n is None else data[:n])
    except HandshakeError as e:
        render.text(e.msg, "zh")
        return
    for offered in (None, OFFER.offer()):
        for p in check_response(resp, key=KEY, offered_protocols=("chat", "superchat"),
                                offered_extensions=offered):
            render.text(p.msg, "en")
            render.text(p.msg, "zh")
    value = resp.get("Sec-WebSocket-Extensions")
    if value is not None:
        try:
            deflate.accept_response(OFFER, value)
        except HandshakeError as e:
            render.text(e.msg, "en")


if __name__ == "__main__":
    main("response", one_input, expected=(HandshakeError,))
