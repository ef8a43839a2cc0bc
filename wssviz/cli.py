"""The composition root: wires a Source to a View.

    wssviz                                 the interface on the live default session
    wssviz run [NAME] [--tls 1.2|1.3] [--plain|--json] [--record FILE]
    wssviz scenarios [--json]
    wssviz replay FILE [--keylog FILE] [--plain|--json]
    wssviz export SOURCE --pcapng OUT [--keylog OUT]

Without ``--plain`` or ``--json`` a command opens the interface.
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable, TextIO

from wssviz.session import Session, StepList


class UserError(Exception):
    """A problem the user can fix: printed as one line, exit status 2."""


def _add_view(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--plain", action="store_true", help="print a numbered walkthrough as text")
    g.add_argument("--json", action="store_true", help="print one JSON object per step per line")
    p.add_argument("--lang", choices=["en", "zh"], default="en", help="language of the explanations")
    p.add_argument("--present", action="store_true", help="presenter mode: large text, one pane")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wssviz", description="See how wss:// works, one step at a time.")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run a live session (the default one unless a scenario is named)")
    run.add_argument("name", nargs="?", default="seed-example", help="scenario name")
    run.add_argument("--tls", choices=["1.2", "1.3"], help="TLS version")
    run.add_argument("--record", metavar="FILE", help="also save the session as a recording")
    _add_view(run)
    scen = sub.add_parser("scenarios", help="list the scenarios that `run NAME` can run")
    scen.add_argument("--json", action="store_true", help="one JSON object per scenario per line")
    replay = sub.add_parser("replay", help="replay a recording (.json) or a capture (.pcap, .pcapng)")
    replay.add_argument("file")
    replay.add_argument("--keylog", metavar="FILE", help="NSS key log for a capture")
    replay.add_argument("--connection", type=int, default=0, help="which TCP connection of a capture")
    _add_view(replay)
    export = sub.add_parser("export", help="export a session for Wireshark")
    export.add_argument("source", help="a scenario name or a recording file")
    export.add_argument("--pcapng", metavar="OUT", required=True)
    export.add_argument("--keylog", metavar="OUT", help="also write the NSS key log to a file")
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
    from wssviz.live.pair import LiveSession

    return LiveSession(live_settings(name, tls))


def load_capture(path: str, keylog: str | None = None, connection: int = 0):
    """A recording or a packet capture, as a Capture."""
    from wssviz.recording import RecordingError, load

    with open(path, "rb") as f:
        head = f.read(4)
    if head[:1] in (b"{", b"[", b" ", b"\n"):
        try:
            capture = load(path)
        except RecordingError as exc:
            raise UserError(str(exc)) from None
        if keylog:
            capture.add_keylog(open(keylog, encoding="ascii", errors="replace").read().splitlines())
        return capture
    from wssviz.pcap_import import CaptureImportError, read_capture_file

    try:
        conns = read_capture_file(path, keylog_path=keylog)
    except CaptureImportError as exc:
        raise UserError(str(exc)) from None
    if not conns:
        raise UserError(f"capture: {path} holds no TCP connection")
    if not 0 <= connection < len(conns):
        raise UserError(f"capture: {path} holds {len(conns)} connections; choose 0..{len(conns) - 1}")
    for note in conns[connection].notes:
        print(f"note: {note}", file=sys.stderr)
    return conns[connection].capture


def replay_session(path: str, keylog: str | None = None, connection: int = 0) -> Session:
    from wssviz.dissect import dissect

    capture = load_capture(path, keylog, connection)
    name = capture.settings.get("name", path) if capture.settings else path
    return StepList(dissect(capture), title=f"{name} (replay)",
                    goal=(capture.settings or {}).get("goal", ""))


# --- views ---------------------------------------------------------------------


def stream(session: Session, out: TextIO, write: Callable[[object, TextIO], None]) -> None:
    """Print each step as soon as the session has it."""
    i = 0
    while True:
        n = session.ensure(i)
        while i < n:
            write(session.steps[i], out)
            i += 1
        if session.finished and i >= len(session.steps):
            break
    out.flush()


def text_view(args: argparse.Namespace, session: Session, scheme: str) -> int:
    from wssviz import plain

    if args.json:
        stream(session, sys.stdout, plain.write_json)
    else:
        stream(session, sys.stdout, lambda s, o: plain.write_plain(s, o, args.lang, scheme))
    return 0


def tui(session: Session, args: argparse.Namespace, factory: Callable[[], Session] | None) -> int:
    from wssviz.ui.app import run_app

    return run_app(session, present=getattr(args, "present", False), lang=getattr(args, "lang", "en"),
                   session_factory=factory)


# --- commands ------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from wssviz.live.pair import LiveSession

    settings = live_settings(args.name, args.tls)
    session = LiveSession(settings)
    if not (args.plain or args.json):
        return tui(session, args, lambda: LiveSession(live_settings(args.name, args.tls)))
    code = text_view(args, session, settings.scheme)
    if args.record:
        from wssviz.recording import save

        save(session.capture, args.record)
    return code


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
            print(f"{item.name:26} {item.title}")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    session = replay_session(args.file, args.keylog, args.connection)
    if not (args.plain or args.json):
        return tui(session, args, None)
    scheme = "wss" if any(s.layer == "tls" for s in session.steps) else "ws"
    return text_view(args, session, scheme)


def cmd_export(args: argparse.Namespace) -> int:
    import os

    from wssviz.export.pcapng import keylog_text, write_pcapng

    if os.path.exists(args.source):
        capture = load_capture(args.source)
    else:
        session = live_session(args.source)
        session.run_all()
        capture = session.capture
    write_pcapng(capture, args.pcapng)
    if args.keylog:
        with open(args.keylog, "w", encoding="ascii") as f:
            f.write(keylog_text(capture))
    print(f"wrote {args.pcapng}" + (f" and {args.keylog}" if args.keylog else ""), file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            from wssviz.live.pair import LiveSession

            return tui(LiveSession(live_settings("seed-example", None)), args, lambda: live_session())
        return {"run": cmd_run, "replay": cmd_replay, "export": cmd_export, "scenarios": cmd_scenarios}[args.command](args)
    except UserError as exc:
        print(f"wssviz: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"wssviz: {exc.filename}: no such file", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
