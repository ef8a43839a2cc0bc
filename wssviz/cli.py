"""The composition root: wires a Source to a View.

    wssviz                                 the interface on the live default session
    wssviz run [NAME] [--tls 1.2|1.3] [--plain|--json] [--record FILE]
    wssviz scenarios [--json]
    wssviz replay FILE [--keylog FILE] [--plain|--json]
    wssviz export SOURCE --pcapng OUT [--keylog OUT]
    wssviz connect URL [--cafile FILE] [--insecure] [--protocol P]... [--origin O]
                   [--send TEXT]... [--plain|--json]
    wssviz listen [--host 127.0.0.1] [--port 8443] [--allow-origin O]... [--plain|--json]

Without ``--plain`` or ``--json`` a command opens the interface.
"""

from __future__ import annotations

import gc
import sys
from types import SimpleNamespace
from typing import TYPE_CHECKING, Callable, TextIO

from wssviz.session import Session, settle

if TYPE_CHECKING:  # argparse (~3 ms with gettext) loads only when there are arguments to parse
    import argparse


class UserError(Exception):
    """A problem the user can fix: printed as one line, exit status 2."""


def _add_view(p: argparse.ArgumentParser) -> None:
    import argparse

    g = p.add_mutually_exclusive_group()
    g.add_argument("--plain", action="store_true", help="print a numbered walkthrough as text")
    g.add_argument("--json", action="store_true", help="print one JSON object per step per line")
    # SUPPRESS: a subcommand without the flag keeps the top-level value (wssviz --lang zh run)
    _add_lang(p, argparse.SUPPRESS)
    p.add_argument("--present", action="store_true", default=argparse.SUPPRESS,
                   help="presenter mode: the ladder, the step, its pane first, a high-contrast theme")
    _add_limits(p, argparse.SUPPRESS)


def _add_lang(p: argparse.ArgumentParser, default: object) -> None:
    from wssviz.explain import languages

    p.add_argument("--lang", choices=languages(), default=default,
                   help="language of everything shown: the explanations, the steps, the interface "
                   "(default: from LC_ALL, LC_MESSAGES or LANG; a zh locale means Chinese)")


def _add_limits(p: argparse.ArgumentParser, default: object) -> None:
    p.add_argument("--limit", action="append", type=_limit, default=default, metavar="NAME=VALUE",
                   help="set one of the limits below for this run (repeatable), e.g. --limit max_frame=16MiB")


def _limit(text: str) -> str:
    """``NAME=VALUE`` for ``--limit``, checked now (a bad one is a usage error)."""
    import argparse

    from wssviz.core.limits import LimitError, parse_value

    name, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"{text!r}: write NAME=VALUE, e.g. max_frame=16MiB")
    try:
        parse_value(name.strip(), value)
    except LimitError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--limit ")) from None
    return text


def _input_file(text: str) -> str:
    """A file to read: it exists, is not a folder, and can be read."""
    import argparse
    import os

    _printable(text)
    path = os.path.expanduser(text)
    if os.path.isdir(path):
        raise argparse.ArgumentTypeError(f"{text}: is a folder, not a file")
    if not os.path.exists(path):
        raise argparse.ArgumentTypeError(f"{text}: no such file")
    if not os.access(path, os.R_OK):
        raise argparse.ArgumentTypeError(f"{text}: cannot be read (permission denied)")
    return path


def _output_file(text: str) -> str:
    """A file to write: not a folder, in a folder that exists and can be written."""
    import argparse
    import os

    _printable(text)
    path = os.path.expanduser(text)
    if os.path.isdir(path):
        raise argparse.ArgumentTypeError(f"{text}: is a folder, not a file")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(f"{text}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise argparse.ArgumentTypeError(f"{text}: cannot write in {folder} (permission denied)")
    return path


def _seconds(text: str) -> float:
    """A time in seconds: a finite number above 0 and at most an hour."""
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of seconds above 0 and at most 3600")
    return value


def _count(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be 0 or more")
    return value


def _printable(text: str) -> str:
    """Text the system gave us that is valid UTF-8 (argv keeps undecodable bytes as
    surrogates)."""
    import argparse

    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise argparse.ArgumentTypeError(f"byte {exc.start} of the argument is not valid UTF-8") from None
    return text


def _add_scenarios(p: argparse.ArgumentParser, default: object) -> None:
    p.add_argument("--scenarios", action="append", metavar="DIR", default=default,
                   help="also look for scenarios (NAME.toml) in this folder, before the bundled "
                   "ones (repeatable; also $WSSVIZ_SCENARIOS, folders separated by ':')")


def _folder(text: str) -> str:
    import argparse
    import os

    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text} is not a folder")
    return text


def _port(text: str) -> int:
    import argparse

    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port (0..65535)")
    return port


def build_parser() -> argparse.ArgumentParser:
    import argparse

    from wssviz import __version__

    from wssviz.core.limits import describe

    class Parser(argparse.ArgumentParser):
        """A usage error is one line (``wssviz connect: argument --cafile: …``), exit 2."""

        def error(self, message: str) -> None:  # type: ignore[override]
            self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")

    parser = Parser(prog="wssviz", description="See how wss:// works, one step at a time.",
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="limits (set one with --limit NAME=VALUE; breaking one is an "
                                     "error step with its close code or HTTP status):\n" + describe())
    parser.add_argument("--version", action="version", version=f"wssviz {__version__}")
    _add_scenarios(parser, [])
    from wssviz.explain import default_language

    _add_lang(parser, default_language())
    parser.add_argument("--present", action="store_true", help="presenter mode: the ladder, the step, its pane "
                        "first, a high-contrast theme")
    parser.add_argument("--screenshots", metavar="DIR", type=_folder,
                        help="where the interface saves screenshots (default: the current folder)")
    _add_limits(parser, [])
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run a live session (the default one unless a scenario is named)")
    run.add_argument("name", nargs="?", default="seed-example", help="scenario name")
    run.add_argument("--tls", choices=["1.2", "1.3"], help="TLS version")
    run.add_argument("--record", metavar="FILE", type=_output_file, help="also save the session as a recording")
    _add_view(run)
    _add_scenarios(run, argparse.SUPPRESS)
    scen = sub.add_parser("scenarios", help="list the scenarios that `run NAME` can run")
    scen.add_argument("--json", action="store_true", help="one JSON object per scenario per line")
    _add_scenarios(scen, argparse.SUPPRESS)
    replay = sub.add_parser("replay", help="replay a recording (.json) or a capture (.pcap, .pcapng)")
    replay.add_argument("file")
    replay.add_argument("--keylog", metavar="FILE", type=_input_file, help="NSS key log for a capture")
    replay.add_argument("--cafile", metavar="FILE", type=_input_file,
                        help="trust anchors (PEM) to judge a capture's certificates")
    replay.add_argument("--connection", type=_count, default=None, metavar="N",
                        help="which TCP connection of a capture, from 0 (default: the first one "
                        "that asks for a WebSocket upgrade)")
    _add_view(replay)
    export = sub.add_parser("export", help="export a session: for Wireshark (pcapng), or as a handout (HTML, Markdown)")
    export.add_argument("source", help="a scenario name, or a recording or capture file")
    export.add_argument("--pcapng", metavar="OUT", type=_output_file, help="a pcapng with its TLS key log inside")
    export.add_argument("--keylog", metavar="OUT", type=_output_file, help="also write the NSS key log to a file")
    export.add_argument("--html", metavar="OUT", type=_output_file,
                        help="a handout: one self-contained page (the ladder, every step's annotated bytes, "
                        "fields and explanation; #step-N opens at a step)")
    export.add_argument("--markdown", metavar="OUT", type=_output_file, help="the handout as Markdown")
    _add_lang(export, argparse.SUPPRESS)
    _add_limits(export, argparse.SUPPRESS)
    _add_scenarios(export, argparse.SUPPRESS)
    connect = sub.add_parser("connect", help="the instrumented client against a real ws:// or wss:// server")
    connect.add_argument("url", help="ws://host[:port]/path or wss://host[:port]/path")
    connect.add_argument("--cafile", metavar="FILE", type=_input_file,
                         help="trust the CA certificate(s) in this PEM file "
                         "instead of the system store")
    connect.add_argument("--insecure", action="store_true", help="accept any certificate (shown in the "
                         "certificate check)")
    connect.add_argument("--protocol", action="append", default=[], metavar="P", type=_printable,
                         help="offer this subprotocol (repeatable)")
    connect.add_argument("--origin", metavar="O", type=_printable, help="send this Origin header")
    connect.add_argument("--send", action="append", metavar="TEXT", type=_printable,
                         help="send this text message (repeatable; default: Hello)")
    connect.add_argument("--timeout", type=_seconds, default=5.0, metavar="S",
                         help="seconds to wait for the server at each step (default 5)")
    connect.add_argument("--tls", choices=["1.2", "1.3"], help="use this TLS version only")
    connect.add_argument("--deflate", nargs="?", const="", metavar="PARAMS",
                         help="offer permessage-deflate, with these parameters if given "
                         "(e.g. \"server_no_context_takeover; client_max_window_bits=10\")")
    connect.add_argument("--record", metavar="FILE", type=_output_file,
                         help="also save the session as a recording "
                         "(written as it runs; `replay` and `export` take it)")
    connect.add_argument("--keylog", metavar="FILE", type=_output_file,
                         help="also write the TLS secrets (NSS key log) "
                         "to this file; SSLKEYLOGFILE is appended to as well")
    _add_view(connect)
    serve = sub.add_parser("serve", help="the interface in web browsers, one session each (a class on a network)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; "
                       "0.0.0.0 lets other machines in)")
    serve.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    _add_lang(serve, argparse.SUPPRESS)
    _add_scenarios(serve, argparse.SUPPRESS)
    compare = sub.add_parser("compare", help="two sessions side by side: steps aligned, then a summary")
    compare.add_argument("a", help="a scenario name, or a recording or capture file")
    compare.add_argument("b", help="another")
    g = compare.add_mutually_exclusive_group()
    g.add_argument("--plain", action="store_true", help="print the aligned steps and the summary as text (default)")
    g.add_argument("--json", action="store_true", help="one JSON object per aligned row, then the summary")
    _add_lang(compare, argparse.SUPPRESS)
    _add_scenarios(compare, argparse.SUPPRESS)
    quiz = sub.add_parser("quiz", help="the interview drill: questions on a session, answers checked")
    quiz.add_argument("source", nargs="?", default="seed-example",
                      help="a scenario name, or a recording or capture file (default seed-example)")
    quiz.add_argument("--list", action="store_true", help="print every question with its answer")
    quiz.add_argument("--json", action="store_true", help="with --list: one JSON object per question per line")
    quiz.add_argument("--kind", action="append", choices=["interview", "bytes", "predict", "myth"],
                      help="only questions of this kind (repeatable)")
    _add_lang(quiz, argparse.SUPPRESS)
    _add_scenarios(quiz, argparse.SUPPRESS)
    listen = sub.add_parser("listen", help="the instrumented server, for real clients and browsers")
    listen.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    listen.add_argument("--port", type=_port, default=8443, help="port (default 8443; 0 picks one)")
    listen.add_argument("--allow-origin", action="append", default=[], metavar="O",
                        help="also accept WebSocket upgrades from this Origin (repeatable)")
    listen.add_argument("--no-deflate", action="store_true",
                        help="refuse permessage-deflate (by default it is accepted when a client offers it)")
    _add_lang(listen, argparse.SUPPRESS)
    _add_limits(listen, argparse.SUPPRESS)
    g = listen.add_mutually_exclusive_group()
    g.add_argument("--plain", action="store_true", help="print each connection's steps as text (default)")
    g.add_argument("--json", action="store_true", help="print one JSON object per step per line, "
                   "with a \"session\" number per connection")
    return parser


# --- sources -------------------------------------------------------------------


def live_settings(name: str, tls: str | None):
    from wssviz import scenarios

    try:
        settings = scenarios.load(name)
    except scenarios.ScenarioError as exc:
        raise UserError(str(exc)) from None
    if tls:
        settings.tls_version = tls
    return settings


def live_session(name: str = "seed-example", tls: str | None = None) -> Session:
    """A live session of scenario ``name``."""
    from wssviz.live.pair import LiveSession

    return LiveSession(live_settings(name, tls))


PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"  # pcapng section header block
PCAP_MAGICS = {b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4",  # pcap, microseconds
               b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"}  # pcap, nanoseconds


def file_type(head: bytes) -> str | None:
    """What a file is by its first bytes: ``pcapng``, ``pcap``, ``json`` (a recording:
    a JSON object, after any UTF-8 BOM and white space) or None."""
    if head[:4] == PCAPNG_MAGIC:
        return "pcapng"
    if head[:4] in PCAP_MAGICS:
        return "pcap"
    if head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")[:1] == b"{":
        return "json"
    return None


def _not_a_session_file(path: str, head: bytes) -> UserError:
    """A clear message for a file that is neither a recording nor a capture."""
    start = head[:8].hex(" ") or "nothing (it is empty)"
    why = f"{path} is neither a recording (JSON) nor a capture (pcap, pcapng): it starts with {start}"
    text = head.lstrip()
    if head[:2] == b"\x1f\x8b":
        why += " (gzip: decompress it first)"
    elif head[:4] == b"PK\x03\x04":
        why += " (a zip archive: unpack it first)"
    elif text.startswith((b"CLIENT_RANDOM ", b"CLIENT_HANDSHAKE_TRAFFIC_SECRET ", b"SERVER_HANDSHAKE",
                          b"CLIENT_TRAFFIC_SECRET_0 ", b"# SSL/TLS secrets")):
        why += " (an NSS key log: give it with --keylog beside the capture)"
    elif text.startswith(b"[") or text.startswith(b'"'):
        why += " (JSON, but a recording is one JSON object: see docs/recording-format.md)"
    return UserError(why)


def load_capture(path: str, keylog: str | None = None, connection: int | None = None,
                 cafile: str | None = None):
    """A recording or a packet capture, as a Capture (``cafile``: trust anchors to judge it
    by; ``connection``: which TCP connection of a capture, by default the first one that
    asks for a WebSocket upgrade)."""
    return open_capture(path, keylog, connection, cafile)[0]


def open_capture(path: str, keylog: str | None = None, connection: int | None = None,
                 cafile: str | None = None, stream: bool = False):
    """``load_capture``, and (``stream``, for a recording) its events as an iterator that
    reads them from the file as they are asked for, the Capture holding none: (capture,
    events or None)."""
    capture, events = _read_capture(path, keylog, connection, stream)
    if cafile:
        from wssviz.live.certs import read_pem_file

        capture.trust = read_pem_file(cafile)
        if not capture.trust:
            raise UserError(f"{cafile} holds no PEM certificate")
    return capture, events


def _endpoint(addr: tuple[str, int]) -> str:
    host, port = addr
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _read_capture(path: str, keylog: str | None, connection: int | None, stream: bool = False):
    from wssviz.recording import RecordingError, load, open_recording

    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except IsADirectoryError:
        raise UserError(f"{path} is a folder: give a recording (.json) or a capture (.pcap, .pcapng)") from None
    except PermissionError:
        raise UserError(f"{path}: permission denied") from None
    kind = file_type(head)
    if kind is None:
        raise _not_a_session_file(path, head)
    if kind == "json":
        if connection not in (None, 0):
            raise UserError(f"{path} is a recording: --connection is for captures (.pcap, .pcapng)")
        try:
            capture, events = open_recording(path) if stream else (load(path), None)
        except RecordingError as exc:
            raise UserError(str(exc)) from None
        if keylog:
            capture.add_keylog(open(keylog, encoding="ascii", errors="replace").read().splitlines())
        return capture, events
    from wssviz.pcap_import import CaptureImportError, read_capture_file

    try:
        conns = read_capture_file(path, keylog_path=keylog)
    except CaptureImportError as exc:
        raise UserError(str(exc)) from None
    if not conns:
        raise UserError(f"capture: {path} holds no TCP connection")
    if connection is not None and not 0 <= connection < len(conns):
        raise UserError(f"capture: {path} holds {len(conns)} connection{'s' if len(conns) != 1 else ''}; "
                        f"choose 0..{len(conns) - 1}")
    if len(conns) == 1:
        connection = 0
    else:
        from wssviz.dissect import holds_websocket

        ws = [holds_websocket(c.capture) for c in conns]
        if connection is None:
            carried = [bool(c.capture.chunks) for c in conns]
            connection = ws.index(True) if True in ws else carried.index(True) if True in carried else 0
        for i, c in enumerate(conns):
            mark = "→" if i == connection else " "
            what = ("WebSocket" if ws[i] else "no data" if not c.capture.chunks
                    else "no WebSocket upgrade seen")
            print(f"{mark} connection {i}: {_endpoint(c.client)} → {_endpoint(c.server)}, "
                  f"{c.packets} packets, {what} (choose with --connection {i})", file=sys.stderr)
    for note in conns[connection].notes:
        print(f"note: {note}", file=sys.stderr)
    return conns[connection].capture, None


def replay_session(path: str, keylog: str | None = None, connection: int | None = None,
                   cafile: str | None = None) -> Session:
    return replay_of(load_capture(path, keylog, connection, cafile), path)


def replay_of(capture, path: str, ahead: bool = True, events=None) -> Session:
    """The steps of a loaded Capture, rebuilt through Dissect as they are asked for
    (``ahead``: and the rest in the background, for an interface; a printout asks for
    each step in turn and lets it go, so it runs in constant memory)."""
    from wssviz.replay import CaptureReplay, LazyReplay

    from wssviz.core.msg import Msg

    settings = capture.settings or {}
    name = str(settings.get("name") or "")
    title = Msg("session.replay", path=path, name=name or None,
                title=Msg("scenario.part", name=name, part="title", default=str(settings.get("title") or ""))
                if settings.get("title") else None)
    goal = (Msg("scenario.part", name=name, part="goal", default=str(settings.get("goal") or ""))
            if settings.get("goal") else "")
    # an interface gets the lazy replay (an index, steps rebuilt as they are shown);
    # a printout reads each step in turn and lets it go
    replay = (LazyReplay(capture, title=title, goal=goal, events=events) if ahead
              else CaptureReplay(capture, title=title, goal=goal, events=events))
    replay.name = name or path
    return replay


# --- views ---------------------------------------------------------------------


def stream(session: Session, out: TextIO, write: Callable[[object, TextIO], None]) -> int:
    """Print each step as soon as the session has it; returns how many were errors.  A
    recording found faulty further on ends it with its message (what was printed stays)."""
    from wssviz.recording import RecordingError

    try:
        return _stream(session, out, write)
    except RecordingError as exc:
        out.flush()
        raise UserError(str(exc)) from None


def _stream(session: Session, out: TextIO, write: Callable[[object, TextIO], None]) -> int:
    i = errors = 0
    forget = getattr(session, "forget", None)
    while True:
        n = session.ensure(i)
        while i < n:
            step = session.steps[i]
            write(step, out)
            errors += step.status == "error"
            if forget is not None:
                forget(i)  # printed: a long session need not keep its steps
            i += 1
        if session.finished and i >= len(session.steps):
            break
    out.flush()
    return errors


def text_view(args: argparse.Namespace, session: Session, scheme: str) -> int:
    from wssviz import plain

    from wssviz import explain

    lang = getattr(args, "lang", "en")
    if args.json:
        return stream(session, sys.stdout, lambda s, o: plain.write_json(s, o, lang))
    sys.stdout.write(plain.header(explain.text(session.title, lang), explain.text(session.goal, lang)))
    seen: set[str] = set()
    return stream(session, sys.stdout, lambda s, o: plain.write_plain(s, o, lang, scheme, seen))


def scenario_choices() -> list[tuple[str, str, str, str]]:
    """The scenario library for the interface's picker: (name, title, goal, description)."""
    from wssviz import scenarios

    try:
        from wssviz.core.msg import Msg

        return [(i.name, *(Msg("scenario.part", name=i.name, part=part, default=getattr(i, part))
                           for part in ("title", "goal", "description")))
                for i in scenarios.catalog()]
    except scenarios.ScenarioError as exc:
        raise UserError(str(exc)) from None


def export_session(session: Session, path: str) -> tuple[str, str | None]:
    """Write what ``session`` holds so far as a pcapng (key log embedded) and, for TLS,
    an NSS key log beside it (same name, ``.keylog``).  Returns both paths."""
    import dataclasses
    import os

    from wssviz.export.pcapng import keylog_text, write_pcapng

    capture = getattr(session, "capture", None)
    if capture is None:
        raise UserError("this session keeps no capture to export")
    from wssviz.replay import CaptureReplay, LazyReplay

    if isinstance(session, (CaptureReplay, LazyReplay)):
        session.run_all()  # its Capture is whole already: finish reading its steps too
    if not capture.whole:
        raise UserError(f"export: {capture.dropped} bytes of this session were let go to stay within its "
                        "memory budget; record the session as it runs (connect --record FILE) and "
                        "export the recording (wssviz export FILE --pcapng OUT)")
    # A live session may be moving on in a worker: export a snapshot of what exists now.
    snapshot = dataclasses.replace(capture, events=list(capture.events), keylog=list(capture.keylog))
    path = os.path.expanduser(path)
    write_pcapng(snapshot, path)
    if not snapshot.keylog:
        return path, None
    stem, ext = os.path.splitext(path)
    keylog = (stem if ext.lower() in (".pcapng", ".pcap") else path) + ".keylog"
    with open(keylog, "w", encoding="ascii") as f:
        f.write(keylog_text(snapshot))
    return path, keylog


def ui_wiring() -> dict[str, Callable]:
    """What the interface gets besides its session: the scenario library, a way to
    start one live, and export (the interface imports none of these layers)."""
    return {"scenarios": scenario_choices, "open_scenario": live_session, "exporter": export_session}


def tui(args: argparse.Namespace, opener: Callable[[], Session],
        factory: Callable[[], Session] | None) -> int:
    """Open the interface; it calls ``opener`` on a thread of its own while Textual starts
    (the first screen shows the first step when it is quick, "working…" when it is not)
    and ``factory`` on restart.  A ``UserError`` from ``opener`` ends the interface and
    is reported like any other."""
    from pathlib import Path

    from wssviz.ui.app import run_app
    from wssviz.ui.config import UiConfig

    try:
        config = UiConfig(lang=getattr(args, "lang", "en"), present=getattr(args, "present", False),
                          screenshots=Path(args.screenshots) if getattr(args, "screenshots", None) else None)
        return run_app(None, opener=opener, config=config, session_factory=factory, **ui_wiring())
    finally:
        settle()  # work a session does by itself (a live warm-up, a replay reading ahead)


# --- commands ------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    settings = live_settings(args.name, args.tls)  # a bad scenario is a one-line error, before any screen
    if not (args.plain or args.json):
        def opener() -> Session:
            return live_session(args.name, args.tls)

        return tui(args, opener, opener)
    from wssviz.live.pair import LiveSession

    session = LiveSession(settings)
    errors = text_view(args, session, settings.scheme)
    if args.record:
        from wssviz.recording import save

        save(session.capture, args.record)
    return 0 if not errors else 1


def cmd_scenarios(args: argparse.Namespace) -> int:
    import json

    from wssviz import scenarios

    try:
        items = scenarios.catalog()
    except scenarios.ScenarioError as exc:
        raise UserError(str(exc)) from None
    for item in items:
        if args.json:
            print(json.dumps(item.to_dict(), ensure_ascii=False))
        else:
            mine = f"  ({item.source})" if item.source != "bundled" else ""
            print(f"{item.name:26} {item.title}{mine}")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    # Read and check the file's head first (a bad one is a one-line error, not a flash of
    # the interface); dissecting it happens in the interface's worker, after its first
    # paint.  A recording's events are read as they are used: a printout prints each and
    # lets it go (constant memory, the first step at once), the interface indexes them;
    # a fault further on in the file ends the printout with its message, or the index
    # with a notice.
    printout = args.plain or args.json
    capture, events = open_capture(args.file, args.keylog, args.connection, args.cafile, stream=True)
    if not printout:
        return tui(args, lambda: replay_of(capture, args.file, events=events), None)
    errors = text_view(args, replay_of(capture, args.file, ahead=False, events=events), capture.scheme)
    return 0 if not errors else 1


def cmd_export(args: argparse.Namespace) -> int:
    import os

    if not (args.pcapng or args.html or args.markdown):
        raise UserError("export: say what to write: --pcapng OUT, --html OUT or --markdown OUT")
    source = Source.open(args.source)
    capture = source.capture
    wrote = []
    if args.pcapng:
        from wssviz.export.pcapng import keylog_text, write_pcapng

        write_pcapng(capture, args.pcapng)
        wrote.append(args.pcapng)
        if args.keylog:
            with open(args.keylog, "w", encoding="ascii") as f:
                f.write(keylog_text(capture))
            wrote.append(args.keylog)
    if args.html or args.markdown:
        from wssviz import explain
        from wssviz.export.handout import Handout, to_html, to_markdown

        h = Handout(explain.text(source.title, args.lang), explain.text(source.goal, args.lang),
                    os.path.basename(args.source), args.lang, capture.scheme, source.steps)
        for path, write in ((args.html, to_html), (args.markdown, to_markdown)):
            if path:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(write(h))
                wrote.append(path)
    print("wrote " + " and ".join(wrote), file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """The interface served to browsers by textual-serve: each browser that opens the
    page gets its own ``wssviz`` process (its own live session), shown through
    xterm.js; everything runs on this machine."""
    import os
    import shlex

    try:
        from textual_serve.server import Server
    except ImportError:
        raise UserError("serve needs textual-serve: pip install textual-serve (from a clone: pip install '.[serve]')") \
            from None
    # (exec: the shell textual-serve starts becomes the session's own process)
    command = "exec " + " ".join(shlex.quote(a) for a in (sys.executable, "-m", "wssviz", "--lang", args.lang,
                                                           *(["--present"] if args.present else [])))
    for folder in args.scenarios or []:
        command += " --scenarios " + shlex.quote(os.path.abspath(folder))
    Server(command, host=args.host, port=args.port, title="wssviz").serve()
    return 0


class Source:
    """What a command reads a session from: a scenario run live to its end, or a
    recording or capture (its steps dissected when first asked for)."""

    def __init__(self, capture, title: object, goal: object, steps: list | None = None) -> None:
        self.capture, self.title, self.goal, self._steps = capture, title, goal, steps

    @classmethod
    def open(cls, source: str) -> "Source":
        import os

        if os.path.exists(source):
            capture = load_capture(source)
            replay = replay_of(capture, source, ahead=False)  # (its title and goal, from the file's settings)
            return cls(capture, replay.title, replay.goal)
        session = live_session(source)
        steps = list(session.run_all())
        return cls(session.capture, session.title, session.goal, steps)

    @property
    def steps(self) -> list:
        if self._steps is None:
            from wssviz.dissect import dissect

            self._steps = dissect(self.capture)
        return self._steps


def cmd_compare(args: argparse.Namespace) -> int:
    import json

    from wssviz import compare, explain
    from wssviz.textwrap_cjk import cells, cut

    lang = args.lang
    source_a, source_b = Source.open(args.a), Source.open(args.b)
    a, scheme_a, title_a = source_a.steps, source_a.capture.scheme, source_a.title
    b, scheme_b, title_b = source_b.steps, source_b.capture.scheme, source_b.title
    rows = compare.align(a, b)
    sa, sb = compare.summary(a, scheme_a), compare.summary(b, scheme_b)
    t = lambda key, **kw: explain.ui_text(f"compare_{key}", lang).format(**kw)  # noqa: E731
    if args.json:
        for r in rows:
            print(json.dumps({side: None if s is None else
                              {"index": s.index, "kind": s.kind, "direction": s.direction,
                               "title": explain.title(s, lang), "sees": explain.visibility(s, sc)}
                              for side, s, sc in (("a", r.a, scheme_a), ("b", r.b, scheme_b))}, ensure_ascii=False))
        print(json.dumps({"summary": {"a": {**vars(sa), "encrypted_share": round(sa.encrypted_share, 4)},
                                      "b": {**vars(sb), "encrypted_share": round(sb.encrypted_share, 4)}}}))
        return 0
    half = 50

    def side(s, scheme: str) -> str:
        if s is None:
            return ""
        sees = t("sees_" + explain.visibility(s, scheme))
        text = cut(f"{s.index:>3} {compare.arrow(s)} {explain.title(s, lang)}", half - cells(sees) - 2)
        return text + " " * (half - cells(text) - cells(sees)) + sees

    def pad(text: str, width: int) -> str:
        return text + " " * max(width - cells(text), 0)

    print(t("title", a=args.a, b=args.b))
    print(f"A: {explain.text(title_a, lang)}")
    print(f"B: {explain.text(title_b, lang)}")
    print()
    print(pad("A", half) + " │ B")
    print("─" * half + "─┼─" + "─" * half)
    for r in rows:
        print(pad(side(r.a, scheme_a), half) + " │ " + side(r.b, scheme_b))
    print()
    print(t("summary"))
    table = compare.summary_rows(sa, sb, lang)
    width = max(cells(r[0]) for r in table) + 2
    col = max(12, *(cells(r[1]) + 2 for r in table))
    print(pad("", width) + pad("A", col) + "B")
    for name, va, vb in table:
        print(pad(name, width) + pad(va, col) + vb)
    return 0


def cmd_quiz(args: argparse.Namespace) -> int:
    """The interview drill on a session's own steps: ``--list`` prints the questions
    with their answers (``--json``: one object per line); otherwise each question is
    asked, the reply judged with partial credit, and the steps that show the answer
    named."""
    import json

    from wssviz import explain, quiz

    lang = args.lang
    steps = Source.open(args.source).steps
    items = [q for q in quiz.questions(steps) if not args.kind or q.kind in args.kind]
    say = lambda m: explain.text(m, lang)  # noqa: E731 - a Msg in the chosen language
    if args.list:
        for n, q in enumerate(items, 1):
            if args.json:
                print(json.dumps({"n": n, "id": q.id, "kind": q.kind, "question": say(q.question),
                                  "answer": say(q.answer), "steps": list(q.steps),
                                  "value": q.value if not isinstance(q.value, bytes) else q.value.hex()},
                                 ensure_ascii=False))
            else:
                print(f"{n}. {say(q.question)}\n   {say(quiz_line('answer', answer=q.answer))}\n"
                      f"   {say(quiz_line('list_steps', steps=', '.join(map(str, q.steps))))}\n")
        return 0
    return _ask(items, steps, say, args.source)


def quiz_line(part: str, **params) -> object:
    from wssviz.core.msg import Msg

    return Msg(f"quiz.ui.{part}", **params)


def _ask(items, steps, say, source: str) -> int:
    """Ask each question on the terminal (or from standard input), judge each reply."""
    from wssviz import quiz

    print(say(quiz_line("title", source=source)))
    print(say(quiz_line("intro", total=len(items))) + "\n")
    total = 0.0
    asked = 0
    for n, q in enumerate(items, 1):
        print(say(quiz_line("number", n=n, total=len(items), kind=quiz_line(f"kind.{q.kind}"))))
        print(say(q.question))
        try:
            reply = input(say(quiz_line("prompt")))
        except EOFError:
            print()
            break
        if not sys.stdin.isatty():
            print(reply)  # (read from a file or a pipe: the transcript shows it)
        if reply.strip():
            asked += 1
            verdict = quiz.judge(q, reply)
            total += verdict.score
            print(say(quiz_line("score", score=f"{verdict.score:g}")))
            for m in verdict.said:
                print("  " + say(m))
        else:
            print(say(quiz_line("skipped")))
        print(say(quiz_line("answer", answer=q.answer)))
        if q.steps:
            print(say(quiz_line("steps")))
            for i in q.steps:
                print("  " + say(quiz_line("step", n=i, title=steps[i].title)))
        print()
    if asked:
        print(say(quiz_line("total", score=f"{total:g}", of=asked, percent=round(100 * total / asked))))
    return 0


def connect_options(args: argparse.Namespace) -> dict:
    """The checked options of ``connect`` (a bad URL or CA file is a usage error, found
    before any interface starts)."""
    from wssviz.live.connect import check_options

    try:
        check_options(args.url, args.cafile)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    deflate = None
    if args.deflate is not None:
        from wssviz.core.deflate import parse_offer

        deflate = parse_offer("permessage-deflate" + (f"; {args.deflate}" if args.deflate.strip() else ""))
        if deflate is None:
            raise UserError(f"connect: --deflate {args.deflate!r} is not a permessage-deflate parameter list "
                            "(RFC 7692 §7.1: server_no_context_takeover, client_no_context_takeover, "
                            "server_max_window_bits=8..15, client_max_window_bits[=8..15], separated by ';')")
    return dict(cafile=args.cafile, insecure=args.insecure, protocols=args.protocol, origin=args.origin,
                send=args.send if args.send else ("Hello",), timeout=args.timeout, tls=args.tls,
                deflate=deflate, record=args.record, keylog=args.keylog)


def connect_session(args: argparse.Namespace) -> Session:
    from wssviz.live.connect import ClientSession

    try:
        return ClientSession(args.url, **connect_options(args))
    except ValueError as exc:
        raise UserError(str(exc)) from None


def cmd_connect(args: argparse.Namespace) -> int:
    connect_options(args)
    if not (args.plain or args.json):
        return tui(args, lambda: connect_session(args), lambda: connect_session(args))
    session = connect_session(args)
    errors = text_view(args, session, session.target.scheme)
    return 0 if not errors else 1


def cmd_listen(args: argparse.Namespace) -> int:
    import json
    import queue
    import threading

    from wssviz import plain
    from wssviz.live.listen import ListenServer

    lang = getattr(args, "lang", "en")
    # Connections hand their steps to a queue; one printer writes them, so a slow
    # reader of stdout never stalls a connection in the middle of its handshake.
    lines: "queue.Queue[str | None]" = queue.Queue()

    def on_step(number: int, step) -> None:
        if args.json:
            d = plain.step_dict(step, lang)
            d["session"] = number
            lines.put(json.dumps(d, ensure_ascii=False, separators=(", ", ": ")) + "\n")
        else:
            text = plain.format_step(step, lang, explain=False)
            lines.put("\n".join(f"#{number} {line}" for line in text.splitlines()) + "\n\n")

    def printer() -> None:
        while (line := lines.get()) is not None:
            try:
                sys.stdout.write(line)
                if lines.empty():
                    sys.stdout.flush()
            except (BrokenPipeError, ValueError):
                pass

    try:
        server = ListenServer(args.host, args.port, allow_origins=args.allow_origin, on_step=on_step,
                              deflate=not args.no_deflate)
    except OSError as exc:
        raise UserError(f"listen: cannot bind {args.host}:{args.port}: {exc.strerror or exc}") from None
    print(server.banner(lang), file=sys.stderr, flush=True)
    out = threading.Thread(target=printer, name="wssviz-listen-printer", daemon=True)
    out.start()
    worker = threading.Thread(target=server.serve_forever, name="wssviz-listen", daemon=True)
    worker.start()

    def terminate(_signum, _frame) -> None:
        raise KeyboardInterrupt

    import signal

    signal.signal(signal.SIGTERM, terminate)  # a service manager's stop is a Ctrl-C too
    try:
        while worker.is_alive():
            worker.join(0.5)
    except KeyboardInterrupt:
        print("\nwssviz listen: stopping", file=sys.stderr, flush=True)
    finally:
        server.stop()
        lines.put(None)
        out.join(5)
    return 0


def opens_interface(args: argparse.Namespace) -> bool:
    """Whether this command line ends in the Textual interface."""
    if args.command is None:
        return True
    return args.command in ("run", "replay", "connect") and not (args.plain or args.json)


def main(argv: list[str] | None = None) -> int:
    # Start-up (Textual's import, the first screen) makes many objects and almost no
    # garbage: the cyclic collector waits until the interface has frozen what start-up
    # made (ui.app.run_app), or until a command without the interface is under way.
    gc.disable()
    try:
        return _main(argv)
    finally:
        gc.enable()


def no_arguments() -> dict:
    """What ``build_parser().parse_args([])`` gives (a test holds the two together):
    plain ``wssviz``, the command most people type, starts without building the parser."""
    from wssviz.explain import default_language

    return {"scenarios": [], "lang": default_language(), "present": False, "screenshots": None, "limit": [],
            "command": None}


def route_warnings() -> None:
    """Warnings from libraries (a deprecation in cryptography, say) go to
    ``warnings.log`` in the cache folder, never to the terminal the interface or the
    walkthrough is drawn on, unless the user asked for them (``python -W``,
    ``PYTHONWARNINGS``)."""
    import warnings

    if sys.warnoptions:
        return

    def to_log(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
        from wssviz.memo import cache_dir

        try:
            folder = cache_dir(writable=True)
            folder.mkdir(parents=True, exist_ok=True)
            with open(folder / "warnings.log", "a", encoding="utf-8") as log:
                log.write(warnings.formatwarning(message, category, filename, lineno, line))
        except OSError:
            pass

    warnings.showwarning = to_log


def _main(argv: list[str] | None) -> int:
    route_warnings()
    if not (sys.argv[1:] if argv is None else argv):
        args = SimpleNamespace(**no_arguments())
    else:
        args = build_parser().parse_args(argv)
    if getattr(args, "limit", None):
        from wssviz.core import limits

        limits.configure(args.limit)
    if not opens_interface(args):
        gc.enable()
        if args.command != "listen":
            # A printed walkthrough makes many short-lived objects per step and keeps few:
            # collecting rarely costs nothing here and saves a third of a long run's time.
            # (A server runs for hours: it keeps the default.)
            gc.set_threshold(100_000, 50, 1000)
    try:
        if args.scenarios:
            from wssviz import scenarios

            try:
                scenarios.use_folders(args.scenarios)
            except scenarios.ScenarioError as exc:
                raise UserError(str(exc)) from None
        if args.command is None:
            return tui(args, live_session, live_session)
        return {"run": cmd_run, "replay": cmd_replay, "export": cmd_export, "scenarios": cmd_scenarios,
                "connect": cmd_connect, "listen": cmd_listen, "quiz": cmd_quiz,
                "compare": cmd_compare, "serve": cmd_serve}[args.command](args)
    except UserError as exc:
        print(f"wssviz: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"wssviz: {exc.filename}: no such file", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
