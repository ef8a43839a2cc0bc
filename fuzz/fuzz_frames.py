"""Fuzz the WebSocket frame layer: FrameReader + frame_problems + MessageAssembler
(with and without permessage-deflate), and the sans-I/O Connection on both sides.

Input layout: byte 0 = options, byte 1 = piece size (how the stream is chopped),
the rest = the bytes the peer sent.

options bit 0: this side is the client (else the server)
        bit 1: permessage-deflate negotiated
        bit 2: client_no_context_takeover
        bit 3: server_no_context_takeover
        bits 4-5: window bits of both sides: 15, 8, 9, 12
        bit 6: max_size 1024 (else the default 64 MiB)
        bit 7: the FrameReader hands frames above 16 bytes out in pieces (the
               Connection keeps its own reader's default)

Besides "no unexpected exception", one property is checked: a Connection fed the
stream whole and one fed it in pieces report the same events.
"""

import sys

import atheris

from _common import main

with atheris.instrument_imports(include=["wssviz"]):
    from wssviz.core import frames as wf
    from wssviz.core.connection import Connection, Failed, InvalidState
    from wssviz.core.deflate import DeflateParams, Decompressor
    from wssviz.core.frames import FrameReader, MessageAssembler, ProtocolError
    from wssviz.explain import render

BITS = (None, 8, 9, 12)
BIG = 64 * 2**20  # the default frame and message limit


def _params(opt: int):
    if not opt & 2:
        return None
    bits = BITS[(opt >> 4) & 3]
    return DeflateParams(client_no_context_takeover=bool(opt & 4),
                         server_no_context_takeover=bool(opt & 8),
                         client_max_window_bits=bits, server_max_window_bits=bits)


def _pieces(data: bytes, size: int):
    return [data[i:i + size] for i in range(0, len(data), size)] or [b""]


def _ev(e):
    """An event, comparable: a Failed by its rule, code and offset."""
    if isinstance(e, Failed):
        return ("Failed", e.error.code, e.error.close_code, e.error.offset)
    return e


def reader_and_assembler(stream: bytes, opt: int, piece: int, side: str) -> None:
    max_size = 1024 if opt & 64 else BIG
    params = _params(opt)
    inflater = Decompressor(params, side, max_size=max_size) if params is not None else None
    reader = FrameReader(max_size, whole=16 if opt & 128 else 1 << 16)
    asm = MessageAssembler(max_size, inflater=inflater, keep=(None if piece & 1 else 64))
    peer = "server" if side == "client" else "client"
    for part in _pieces(stream, piece):
        reader.feed(part)
        while True:
            try:
                chunk = reader.next()
            except ProtocolError as e:
                render.text(e.msg, "en")
                return
            if chunk is None:
                break
            str(chunk.frame)
            if chunk.first:
                for p in wf.frame_problems(chunk.frame, chunk.layout, sender=peer,
                                           rsv1_allowed=params is not None):
                    render.text(p.msg, "en")
            try:
                m = asm.feed_chunk(chunk)
            except ProtocolError as e:
                render.text(e.msg, "zh")
                continue
            if m is not None and m.opcode == wf.Opcode.CLOSE:
                try:
                    wf.parse_close(m.data)
                except ProtocolError:
                    pass
    reader.take_rest()


def connection(stream: bytes, opt: int, piece: int, side: str) -> None:
    max_size = 1024 if opt & 64 else BIG
    params = _params(opt)
    whole = Connection(side, deflate=params, max_size=max_size, mask_key=lambda: b"\x01\x02\x03\x04")
    split = Connection(side, deflate=params, max_size=max_size, mask_key=lambda: b"\x01\x02\x03\x04")
    whole.receive_data(stream)
    for part in _pieces(stream, piece):
        split.receive_data(part)
    a = [_ev(e) for e in whole.events()]
    b = [_ev(e) for e in split.events()]
    if a != b:
        raise AssertionError(f"events differ with pieces of {piece}:\nwhole: {a}\nsplit: {b}")
    if whole.data_to_send() != split.data_to_send():
        raise AssertionError("the two connections answered with different bytes")
    # the connection keeps working (or refuses clearly) after whatever came in
    for conn in (whole,):
        try:
            conn.send_text("héllo" * 30, fin=False)
            conn.send_continuation(b"!", fin=True)
            conn.send_ping(b"x")
            conn.send_close(1000, "bye")
        except InvalidState:
            pass
        conn.data_to_send()
        conn.receive_eof()
        conn.events()


def one_input(data: bytes) -> None:
    if len(data) < 2:
        return
    opt, piece = data[0], data[1] or 1
    stream = data[2:]
    side = "client" if opt & 1 else "server"
    wf.parse_frame(stream, max_size=1024 if opt & 64 else BIG)
    reader_and_assembler(stream, opt, piece, side)
    connection(stream, opt, piece, side)


if __name__ == "__main__":
    main("frames", one_input, expected=(ProtocolError,))
