"""permessage-deflate core: RFC 7692 §7.2.3 vectors, negotiation on both sides (§7.1),
bounded inflation, and interop with websockets.extensions.permessage_deflate."""

from __future__ import annotations

import os
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wssviz.core.deflate import (Compressor, Decompressor, DeflateParams, accept_response,
                                 format_extension, negotiate, parse_extensions)
from wssviz.core.frames import Frame, MessageAssembler, Opcode, ProtocolError
from wssviz.core.handshake import HandshakeError

HELLO = bytes.fromhex("f248cdc9c90700")


def h(s: str) -> bytes:
    return bytes.fromhex(s)


# --- RFC 7692 §7.2.3 ---------------------------------------------------------------------------


def test_7_2_3_1_a_message_compressed_using_1_compressed_deflate_block():
    assert Compressor(DeflateParams(), "client").compress(b"Hello") == HELLO
    assert Decompressor(DeflateParams(), "server").decompress(HELLO) == b"Hello"


def test_7_2_3_2_sharing_lz77_sliding_window():
    c = Compressor(DeflateParams(), "server")
    assert c.compress(b"Hello") == HELLO
    assert c.compress(b"Hello") == h("f200110000")  # refers back into the first message
    d = Decompressor(DeflateParams(), "client")
    assert d.decompress(HELLO) == b"Hello" and d.decompress(h("f200110000")) == b"Hello"
    # without context takeover the second message stands alone
    p = DeflateParams(server_no_context_takeover=True)
    c = Compressor(p, "server")
    assert c.compress(b"Hello") == HELLO and c.compress(b"Hello") == HELLO
    d = Decompressor(p, "client")
    assert d.decompress(HELLO) == b"Hello"
    with pytest.raises(ProtocolError) as e:
        d.decompress(h("f200110000"))  # needs the history the receiver dropped
    assert e.value.close_code == 1002


def test_7_2_3_3_deflate_block_with_no_compression():
    assert Decompressor(DeflateParams(), "client").decompress(
        h("000500faff48656c6c6f")) == b"Hello"


def test_7_2_3_4_deflate_block_with_bfinal_set():
    d = Decompressor(DeflateParams(), "client")
    assert d.decompress(h("f348cdc9c90700")) == b"Hello"
    # the window survives the final block: a back-reference still works
    assert d.decompress(h("f200110000")) == b"Hello"


def test_7_2_3_5_two_deflate_blocks_in_one_message():
    assert Decompressor(DeflateParams(), "client").decompress(
        h("f24805000000ffffcac9c90700")) == b"Hello"


def test_7_2_3_6_empty_message():
    assert Compressor(DeflateParams(), "client").compress(b"") == b"\x00"
    assert Decompressor(DeflateParams(), "server").decompress(b"\x00") == b""
    assert Decompressor(DeflateParams(), "server").decompress(b"") == b""


# --- bounded inflation ----------------------------------------------------------------------------


def test_zip_bomb_never_inflates_fully():
    bomb = Compressor(DeflateParams(), "client").compress(bytes(256 * 2**20))
    assert len(bomb) < 300_000
    d = Decompressor(DeflateParams(), "server", max_size=2**20)
    tracemalloc.start()
    try:
        with pytest.raises(ProtocolError) as e:
            d.decompress(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20  # the cap stops inflation near 1 MiB, never near 256 MiB
    assert e.value.close_code == 1009 and e.value.rfc == "RFC 6455 §10.4"


def test_size_limit_boundary():
    data = os.urandom(1000)
    z = Compressor(DeflateParams(), "client").compress(data)
    assert Decompressor(DeflateParams(), "server", max_size=1000).decompress(z) == data
    with pytest.raises(ProtocolError):
        Decompressor(DeflateParams(), "server", max_size=999).decompress(z)
    assert Decompressor(DeflateParams(), "server", max_size=None).decompress(z) == data


def test_garbage_is_a_protocol_error():
    with pytest.raises(ProtocolError) as e:
        Decompressor(DeflateParams(), "server").decompress(b"\xff\xff\xff")
    assert e.value.close_code == 1002 and e.value.rfc == "RFC 7692 §6.2"


@settings(max_examples=200)
@given(st.binary(max_size=64))
def test_random_input_never_crashes(data):
    try:
        Decompressor(DeflateParams(), "server", max_size=4096).decompress(data)
    except ProtocolError:
        pass


@pytest.mark.parametrize("bits", [8, 9, 12, 15])
@pytest.mark.parametrize("nct", [False, True])
def test_round_trip_with_windows(bits, nct):
    p = DeflateParams(client_no_context_takeover=nct, client_max_window_bits=bits)
    c, d = Compressor(p, "client"), Decompressor(p, "server")
    text = b"the quick brown fox " * 50 + os.urandom(100) + b"the quick brown fox " * 50
    for _ in range(3):
        z = c.compress(text)
        assert len(z) < len(text) and d.decompress(z) == text


# --- negotiation -----------------------------------------------------------------------------------


def test_offer_and_response_strings():
    assert DeflateParams().offer() == "permessage-deflate; client_max_window_bits"
    p = DeflateParams(True, True, 10, 12)
    assert p.offer() == ("permessage-deflate; client_no_context_takeover; "
                         "server_no_context_takeover; server_max_window_bits=12; "
                         "client_max_window_bits=10")
    assert p.response() == ("permessage-deflate; server_no_context_takeover; "
                            "client_no_context_takeover; server_max_window_bits=12; "
                            "client_max_window_bits=10")
    assert DeflateParams().response() == "permessage-deflate"
    with pytest.raises(ValueError):
        DeflateParams(client_max_window_bits=16)
    assert parse_extensions(p.offer())[0][0] == "permessage-deflate"
    assert format_extension("x", {"a": None}) == "x; a"


@pytest.mark.parametrize("offer,prefs,expected", [
    ("permessage-deflate", None, (DeflateParams(), "permessage-deflate")),
    ("permessage-deflate; client_max_window_bits", None,
     (DeflateParams(), "permessage-deflate")),
    ("permessage-deflate; client_max_window_bits", DeflateParams(client_max_window_bits=10),
     (DeflateParams(client_max_window_bits=10),
      "permessage-deflate; client_max_window_bits=10")),
    ("permessage-deflate; client_max_window_bits=9", DeflateParams(client_max_window_bits=10),
     (DeflateParams(client_max_window_bits=9), "permessage-deflate; client_max_window_bits=9")),
    ("permessage-deflate; server_max_window_bits=10", None,
     (DeflateParams(server_max_window_bits=10), "permessage-deflate; server_max_window_bits=10")),
    ("permessage-deflate; server_max_window_bits=12", DeflateParams(server_max_window_bits=9),
     (DeflateParams(server_max_window_bits=9), "permessage-deflate; server_max_window_bits=9")),
    ("permessage-deflate", DeflateParams(server_max_window_bits=9),  # §7.1.2.1: unasked
     (DeflateParams(server_max_window_bits=9), "permessage-deflate; server_max_window_bits=9")),
    ("permessage-deflate; server_no_context_takeover; client_no_context_takeover", None,
     (DeflateParams(True, True), "permessage-deflate; server_no_context_takeover; "
                                 "client_no_context_takeover")),
    ("permessage-deflate", DeflateParams(server_no_context_takeover=True),
     (DeflateParams(server_no_context_takeover=True),
      "permessage-deflate; server_no_context_takeover")),
    # the first acceptable offer wins; invalid ones are skipped (§7.1)
    ("x-foo, permessage-deflate; server_max_window_bits=7, permessage-deflate; "
     "client_no_context_takeover, permessage-deflate", None,
     (DeflateParams(client_no_context_takeover=True),
      "permessage-deflate; client_no_context_takeover")),
    # the server wants to limit the client's window but the client cannot be told
    ("permessage-deflate", DeflateParams(client_max_window_bits=10), None),
    ("x-foo", None, None),
])
def test_negotiate(offer, prefs, expected):
    assert negotiate(offer, server_prefs=prefs) == expected


@pytest.mark.parametrize("offer", [
    "permessage-deflate; foo",
    "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
    "permessage-deflate; server_no_context_takeover=1",
    "permessage-deflate; client_no_context_takeover=true",
    "permessage-deflate; server_max_window_bits",
    "permessage-deflate; server_max_window_bits=16",
    "permessage-deflate; server_max_window_bits=7",
    "permessage-deflate; server_max_window_bits=09",
    "permessage-deflate; client_max_window_bits=0",
    'permessage-deflate; client_max_window_bits="16"',
])
def test_invalid_offers_are_declined(offer):
    assert negotiate(offer) is None


def test_quoted_values_are_accepted():
    assert negotiate('permessage-deflate; server_max_window_bits="10"')[0] == \
        DeflateParams(server_max_window_bits=10)


def test_malformed_offer_header_raises():
    with pytest.raises(HandshakeError) as e:
        negotiate("permessage-deflate;; x")
    assert e.value.rfc == "RFC 6455 §9.1" and e.value.offset == 19


@pytest.mark.parametrize("offer,response,expected", [
    (DeflateParams(), "permessage-deflate", DeflateParams()),
    (DeflateParams(), "permessage-deflate; client_max_window_bits=9",
     DeflateParams(client_max_window_bits=9)),
    (DeflateParams(), "permessage-deflate; server_max_window_bits=9",
     DeflateParams(server_max_window_bits=9)),
    (DeflateParams(server_max_window_bits=10), "permessage-deflate; server_max_window_bits=10",
     DeflateParams(server_max_window_bits=10)),
    (DeflateParams(client_max_window_bits=11), "permessage-deflate",
     DeflateParams(client_max_window_bits=11)),
    (DeflateParams(client_no_context_takeover=True), "permessage-deflate",
     DeflateParams(client_no_context_takeover=True)),
    (DeflateParams(), "permessage-deflate; client_no_context_takeover; "
                      "server_no_context_takeover",
     DeflateParams(True, True)),
])
def test_accept_response(offer, response, expected):
    assert accept_response(offer, response) == expected


@pytest.mark.parametrize("offer,response,rfc", [
    (DeflateParams(), "x-other", "RFC 7692 §7.1"),
    (DeflateParams(), "permessage-deflate, permessage-deflate", "RFC 7692 §5"),
    (DeflateParams(), "permessage-deflate; foo", "RFC 7692 §7.1"),
    (DeflateParams(), "permessage-deflate; client_max_window_bits", "RFC 7692 §7.1"),
    (DeflateParams(), "permessage-deflate; server_max_window_bits=16", "RFC 7692 §7.1"),
    (DeflateParams(), "permessage-deflate; server_no_context_takeover; "
                      "server_no_context_takeover", "RFC 7692 §7.1"),
    (DeflateParams(server_no_context_takeover=True), "permessage-deflate",
     "RFC 7692 §7.1.1.1"),
    (DeflateParams(server_max_window_bits=10), "permessage-deflate", "RFC 7692 §7.1.2.1"),
    (DeflateParams(server_max_window_bits=10), "permessage-deflate; server_max_window_bits=11",
     "RFC 7692 §7.1.2.1"),
    (DeflateParams(client_max_window_bits=10), "permessage-deflate; client_max_window_bits=11",
     "RFC 7692 §7.1.2.2"),
    (DeflateParams(), "permessage-deflate;", "RFC 6455 §9.1"),
])
def test_bad_responses(offer, response, rfc):
    with pytest.raises(HandshakeError) as e:
        accept_response(offer, response)
    assert e.value.rfc == rfc


# --- interop with websockets -----------------------------------------------------------------------

PARAMS = [DeflateParams(), DeflateParams(True, True), DeflateParams(False, True, 10, 9),
          DeflateParams(True, False, 8, 12), DeflateParams(client_max_window_bits=9)]


def _ws_codec(p: DeflateParams, role: str):
    """websockets' codec for ``role`` with the same negotiated parameters."""
    from websockets.extensions.permessage_deflate import PerMessageDeflate
    mine = "client" if role == "client" else "server"
    other = "server" if role == "client" else "client"
    return PerMessageDeflate(
        remote_no_context_takeover=getattr(p, f"{other}_no_context_takeover"),
        local_no_context_takeover=getattr(p, f"{mine}_no_context_takeover"),
        remote_max_window_bits=getattr(p, f"{other}_max_window_bits") or 15,
        local_max_window_bits=getattr(p, f"{mine}_max_window_bits") or 15)


messages = st.lists(st.one_of(st.binary(max_size=500),
                              st.text(max_size=300).map(lambda t: (t * 5).encode())),
                    min_size=1, max_size=5)


@settings(max_examples=40)
@given(st.sampled_from(PARAMS), messages)
def test_websockets_inflates_what_we_deflate(p, msgs):
    from websockets.frames import Frame as WFrame, Opcode as WOpcode
    ours = Compressor(p, "client")
    theirs = _ws_codec(p, "server")
    for m in msgs:
        frame = WFrame(WOpcode.BINARY, ours.compress(m), rsv1=True)
        assert bytes(theirs.decode(frame).data) == m


@settings(max_examples=40)
@given(st.sampled_from(PARAMS), messages)
def test_we_inflate_what_websockets_deflates(p, msgs):
    from websockets.frames import Frame as WFrame, Opcode as WOpcode
    theirs = _ws_codec(p, "server")
    ours = Decompressor(p, "client")
    for m in msgs:
        z = theirs.encode(WFrame(WOpcode.BINARY, m))
        assert z.rsv1 and ours.decompress(bytes(z.data)) == m


def test_negotiation_interop_our_client_their_server():
    from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
    from websockets.headers import parse_extension
    for offer in PARAMS:
        [(name, params)] = parse_extension(offer.offer())
        factory = ServerPerMessageDeflateFactory(server_max_window_bits=11,
                                                 client_max_window_bits=12)
        try:
            resp_params, _ = factory.process_request_params(params, [])
        except Exception:
            continue  # websockets declined (its preferences need a window the offer lacks)
        from websockets.headers import build_extension
        got = accept_response(offer, build_extension([(name, resp_params)]))
        assert got.server_max_window_bits == (min(11, offer.server_max_window_bits)
                                              if offer.server_max_window_bits else 11)


def test_negotiation_interop_their_client_our_server():
    from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
    from websockets.headers import build_extension, parse_extension
    for kw in ({}, {"server_no_context_takeover": True}, {"client_max_window_bits": 10},
               {"server_max_window_bits": 9, "client_no_context_takeover": True}):
        factory = ClientPerMessageDeflateFactory(**kw)
        offer = build_extension([(factory.name, factory.get_request_params())])
        for prefs in (None, DeflateParams(client_max_window_bits=9),
                      DeflateParams(server_no_context_takeover=True)):
            got = negotiate(offer, server_prefs=prefs)
            assert got is not None
            params, response = got
            [(_, resp_params)] = parse_extension(response)
            ext = factory.process_response_params(resp_params, [])  # raises if invalid
            # and the codecs agree in both directions
            from websockets.frames import Frame as WFrame, Opcode as WOpcode
            data = b"interop " * 40
            z = ext.encode(WFrame(WOpcode.TEXT, data))
            assert Decompressor(params, "server").decompress(bytes(z.data)) == data
            assert bytes(ext.decode(WFrame(WOpcode.TEXT, Compressor(params, "server")
                                           .compress(data), rsv1=True)).data) == data


# --- with the message assembler -------------------------------------------------------------------


def test_assembler_inflates_fragmented_compressed_text():
    p = DeflateParams()
    text = "permessage-deflate, fragmented: " + "é" * 200
    z = Compressor(p, "client").compress(text.encode())
    d = Decompressor(p, "server")
    asm = MessageAssembler(inflater=d)
    third = len(z) // 3
    assert asm.feed(Frame(Opcode.TEXT, z[:third], fin=False, rsv1=True)) is None
    assert asm.feed(Frame(Opcode.CONT, z[third:2 * third], fin=False)) is None
    msg = asm.feed(Frame(Opcode.CONT, z[2 * third:]))
    assert msg.text == text and msg.compressed and msg.frames == 3
    # uncompressed messages still work alongside
    assert asm.feed(Frame(Opcode.TEXT, b"plain")).text == "plain"


def test_assembler_checks_inflated_utf8_and_size():
    p = DeflateParams()
    bad = Compressor(p, "client").compress(b"ok \xff")
    with pytest.raises(ProtocolError) as e:
        MessageAssembler(inflater=Decompressor(p, "server")).feed(
            Frame(Opcode.TEXT, bad, rsv1=True))
    assert (e.value.close_code, e.value.offset) == (1007, 3)
    big = Compressor(p, "client").compress(bytes(5000))
    with pytest.raises(ProtocolError) as e:
        MessageAssembler(max_size=4096, inflater=Decompressor(p, "server", max_size=None)
                         ).feed(Frame(Opcode.BINARY, big, rsv1=True))
    assert e.value.close_code == 1009


def test_parse_offer_reads_the_first_valid_offer():
    from wssviz.core.deflate import parse_offer

    assert parse_offer("") is None
    assert parse_offer("x-webkit-deflate-frame") is None
    got = parse_offer("permessage-deflate; client_max_window_bits=16, "
                      "permessage-deflate; server_no_context_takeover; client_max_window_bits")
    assert got == DeflateParams(server_no_context_takeover=True, client_max_window_bits=None)
    assert parse_offer("permessage-deflate; server_max_window_bits=10").server_max_window_bits == 10
    assert parse_offer('permessage-deflate; bad"quote') is None
