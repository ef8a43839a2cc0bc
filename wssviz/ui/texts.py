"""Words the interface shows, looked up in the explain catalogs.

Every label goes through ``t(key, lang)``, which asks ``wssviz.explain.ui_text``.
``ENGLISH`` lists every key the interface asks for, with the English wording to
fall back on while a catalog lacks it: it is the contract with the catalogs,
not a second catalog.
"""

from __future__ import annotations

from functools import lru_cache

from wssviz.explain import ui_text

ENGLISH: dict[str, str] = {
    # panes
    "pane_tls": "TLS handshake",
    "pane_upgrade": "Upgrade",
    "pane_accept": "Accept",
    "pane_frames": "Frames",
    "pane_hex": "Hex",
    "pane_explain": "Explanation",
    # key bindings
    "key_next": "Next",
    "key_previous": "Back",
    "key_first": "First step",
    "key_last": "Last step",
    "key_goto": "Go to",
    "key_pane": "Pane",
    "key_autoplay": "Auto",
    "key_faster": "Faster",
    "key_slower": "Slower",
    "key_restart": "Restart",
    "key_present": "Present",
    "key_theme": "Theme",
    "key_help": "Help",
    "key_quit": "Quit",
    # timeline and status
    "timeline_client": "client",
    "timeline_server": "server",
    "status_step": "Step {n} of {total}",
    "status_more": "{total}+",
    "status_working": "driving the connection one action further…",
    "status_end": "This is the last step: the connection is over.",
    "status_autoplay": "auto-play every {seconds:g} s",
    "status_failed": "The source failed: {error}. What was shown so far stays on screen.",
    "status_restarted": "Started over: a new connection.",
    # TLS pane
    "tls_none": "No TLS message yet at this step.",
    "tls_showing": "Showing step {n}, the latest TLS step so far.",
    "tls_clear": "Sent in the clear: anyone on the path can read this message.",
    "tls_encrypted": "Encrypted: the wire shows only the record header (type 0x17, version, length). "
                     "Protected with the {phase} traffic keys.",
    "tls_encrypted_nokeys": "Encrypted: the wire shows only the record header (type 0x17, version, length).",
    "tls_decrypted_with": "wssviz decrypted it with the {keys}.",
    "tls_local": "A local computation on the {side}: nothing crosses the wire.",
    "tls_checks": "What the client checked:",
    # Upgrade pane
    "upgrade_none": "The HTTP Upgrade request has not been sent yet.",
    "upgrade_request": "Request (client → server)",
    "upgrade_response": "Response (server → client)",
    "upgrade_waiting": "(no response yet)",
    "upgrade_matters": "The headers that matter",
    "header_host": "The server the client wants; with wss:// it also went in the TLS SNI.",
    "header_upgrade": "Asks to switch this HTTP connection to the WebSocket protocol.",
    "header_connection": "Says the Upgrade header applies to this hop: the connection itself changes protocol.",
    "header_sec-websocket-key": "16 random bytes in base64: the server must prove it read them.",
    "header_sec-websocket-version": "The WebSocket version the client speaks: 13 (RFC 6455).",
    "header_sec-websocket-protocol": "Sub-protocols the client offers; the server picks at most one.",
    "header_sec-websocket-extensions": "Extensions offered (e.g. permessage-deflate); the server accepts some or none.",
    "header_origin": "The page that opened the socket; servers check it against cross-site use.",
    "header_sec-websocket-accept": "SHA-1 of key + GUID in base64: proof the server understood the request.",
    # Accept pane
    "accept_none": "The server has not read the Upgrade request yet.",
    "accept_key": "Sec-WebSocket-Key (from the request)",
    "accept_decoded": "base64-decoded: 16 bytes",
    "accept_concat": "key + GUID 258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
    "accept.sha1": "SHA-1 of that string",
    "accept.base64": "base64 → Sec-WebSocket-Accept",
    "accept_expected": "the client computes",
    "accept_received": "the response carries",
    "accept_verdict": "verdict",
    "accept_pending": "(the client has not read the response yet)",
    # Frames pane
    "frames_none": "No WebSocket frame yet.",
    "frames_showing": "Showing step {n}, the latest frame so far.",
    "frames_header": "Frame header (RFC 6455 §5.2)",
    "frames_payload": "Payload",
    "frames_lane": "XOR lane: key byte ⊕ payload byte = byte on the wire",
    "frames_lane_more": "first {shown} of {total} payload bytes",
    "frames_unmasked": "Not masked: only client-to-server frames are masked (RFC 6455 §5.1), "
                       "so a server frame's payload is sent as is.",
    # Hex pane
    "hex_wire": "wire: the bytes that crossed TCP",
    "hex_data": "data: the same in the clear",
    "hex_none": "(no bytes: a local computation)",
    "hex_hint": "Choose a field to light up its bytes; click a byte to find its field.",
    # Explanation pane
    "explain_what": "What happened",
    "explain_why": "Why",
    "explain_eavesdropper": "What an eavesdropper on the wire sees",
    "explain_rfc": "Where it is specified",
    # screens
    "help_title": "Keys",
    "key_palette": "Command palette",
    "timeline_next": "not yet taken",
    "timeline_busy": "working…",
    "goto_prompt": "Go to step number",
    "present_on": "Presenter mode: one pane at a time, large and high-contrast. Press F5 to leave.",
}


#: Our keys that the catalogs already name differently (their ``[ui]`` table).
CATALOG_KEY = {
    "pane_tls": "tls_handshake", "pane_upgrade": "upgrade", "pane_accept": "accept",
    "pane_frames": "frames", "pane_hex": "hex", "pane_explain": "explanation",
    "explain_what": "what_happened", "explain_why": "why",
    "explain_eavesdropper": "eavesdropper_sees", "explain_rfc": "rfc", "key_help": "help",
    "timeline_next": "not_yet_taken",
}


@lru_cache(maxsize=None)
def t(key: str, lang: str = "en") -> str:
    """The catalog's ``[ui]`` text for ``key`` in ``lang``, else the English fallback."""
    name = CATALOG_KEY.get(key, key)
    text = ui_text(name, lang)
    if text and text != name:
        return text
    return ENGLISH.get(key, key)
