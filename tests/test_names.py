"""TLS name tables against what a current browser really sends."""

from __future__ import annotations

from pathlib import Path

from wssviz.core import tls_records as tr
from wssviz.dissect import names

CHROMIUM = Path(__file__).parent / "data" / "chromium-156-client-hello.hex"


def chromium_hello() -> tr.ClientHello:
    """A ClientHello recorded from headless Chromium 156 against ``wssviz listen``
    (the handshake message, as the dissector's ``data`` of that step)."""
    return tr.parse_client_hello(bytes.fromhex(CHROMIUM.read_text().strip()))


def code_points(hello: tr.ClientHello) -> list[tuple[str, int]]:
    """(name kind, number) for every number in the hello that has a name."""
    msg = bytes.fromhex(CHROMIUM.read_text().strip())
    out = [("version", hello.legacy_version.value)]
    out += [("cipher_suite", s.value) for s in hello.cipher_suites]
    for ext in hello.extensions:
        out.append(("extension", ext.type))
        body = tr.parse_extension_body(ext, msg, "client_hello")
        kind = {tr.ExtensionType.supported_groups: "group",
                tr.ExtensionType.signature_algorithms: "signature_scheme",
                tr.ExtensionType.signature_algorithms_cert: "signature_scheme",
                43: "version"}.get(ext.type)
        if kind:
            out += [(kind, i.value) for i in body.items]
        out += [("group", e.group.value) for e in body.entries]
    return out


def test_a_recorded_chromium_client_hello_names_every_value():
    points = code_points(chromium_hello())
    assert len(points) > 50
    unnamed = sorted({f"{k} 0x{c:04x}" for k, c in points if not names.known(k, c)})
    assert unnamed == []


def test_the_newer_code_points_browsers_send():
    assert names.signature_scheme(0x0904) == "mldsa44"
    assert names.signature_scheme(0x0905) == "mldsa65"
    assert names.signature_scheme(0x0906) == "mldsa87"
    assert names.extension(0x44CD) == "application_settings"
    assert names.extension(0x4469) == "application_settings_old"
    assert names.extension(0xCA34) == "trust_anchors"
    assert names.group(0x11EC) == "X25519MLKEM768"
    assert names.group(0x11ED) == "SecP384r1MLKEM1024"
    assert names.label("extension", 0x44CD) == "0x44cd application_settings"
    assert not names.known("extension", 0x1234)
    assert names.known("extension", 0x4A4A)  # GREASE is named as such
