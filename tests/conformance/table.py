"""Run the Autobahn conformance cases and write docs/conformance.md from the results.

    python tests/conformance/table.py            # run, then write docs/conformance.md
    python tests/conformance/table.py --stdout   # run, print the markdown instead

Every row comes from this run's test reports (each test records its verdict and what it
saw as properties), so the table cannot drift from the tests.  Exit status: pytest's.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DOC = ROOT / "docs" / "conformance.md"
SIDES = {"test_autobahn_server.py": "server", "test_autobahn_client.py": "client"}
RESULTS = ("pass", "non-strict", "informational", "not applicable", "fails")

sys.path.insert(0, str(HERE))
from autobahn_cases import CASES  # noqa: E402


class Collect:
    """A pytest plugin: each case's result per side."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], dict] = {}
        self.others: list[tuple[str, str, str]] = []  # tests outside the case table

    def pytest_runtest_logreport(self, report) -> None:
        file = report.nodeid.split("::")[0].rsplit("/", 1)[-1]
        side = SIDES.get(file)
        if side is None or "::test_case[" not in report.nodeid:
            if report.when == "call" or report.outcome != "passed":
                self.others.append((report.nodeid, report.outcome, _first_line(report)))
            return
        case_id = report.nodeid.rsplit("[", 1)[1].rstrip("]")
        props = dict(report.user_properties)
        row = self.rows.setdefault((side, case_id), {})
        if report.skipped:
            row.update(result="not applicable", detail=_skip_reason(report))
        elif report.failed:
            row.update(result="fails", detail=props.get("detail") or _first_line(report),
                       notes=props.get("notes", ""))
        elif report.when == "call":
            row.update(result=props.get("verdict", "pass"), detail=props.get("detail", ""),
                       notes=props.get("notes", ""), short=props.get("short", ""))


def _first_line(report) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return f"{crash.message.splitlines()[0] if crash.message else ''} ({Path(crash.path).name}:{crash.lineno})"
    text = str(report.longrepr or "")
    return text.strip().splitlines()[0] if text.strip() else report.outcome


def _skip_reason(report) -> str:
    lr = report.longrepr
    if isinstance(lr, tuple) and len(lr) == 3:
        return str(lr[2]).removeprefix("Skipped: ")
    return str(lr)


def cell(row: dict | None) -> str:
    return row["result"] if row else "not run"


def read_mark(case) -> str:
    """¹ on a client cell whose expected echo was checked as what the client read."""
    return "¹" if any(e[0] == "message" for events in case.expected.values() for e in events) else ""


def why(case, side: str, row: dict | None) -> str:
    """One line for anything that is not a plain pass, from what the run saw."""
    if not row:
        return ""
    r = row["result"]
    if r == "pass":
        return ""
    if r == "not applicable":
        return f"{side}: n/a: {row['detail']}"
    if r == "fails":
        return f"{side}: FAILS: {row['detail']}"
    notes, short = row.get("notes", ""), row.get("short", "")
    if "tool.driver_failure" in notes:
        because = (f"{'listen' if side == 'server' else 'connect'} broke down (error step tool.driver_failure, "
                   "InvalidState: it echoes a message read together with a frame that had already failed or "
                   "closed the connection, wssviz/live/listen.py:473) and closed TCP with no echo and no "
                   "Close; see test_message_then_end_in_one_write")
    elif case.id in ("6.4.3", "6.4.4") and "timeout B" in short:
        because = ("wssviz checks UTF-8 once a frame of up to 64 KiB is whole (wssviz/core/frames.py, "
                   "FrameReader), so the invalid 2nd chop is caught after the 3rd chop (1007), not at once")
    else:
        because = short
    if r == "non-strict":
        return f"{side}: non-strict: {because}"
    return f"{side}: informational: {because}"


#: The tests beyond the case table, and what each checks.
BEYOND = {
    "test_frames_behind_the_101":
        "connect, against a server whose first frames of a case go out in the same write as its 101 "
        "(as a server that speaks first on open sends them, so they reach the client in the same read as "
        "the response head): the client must handle them as it handles later frames (3.1: fail with 1002; "
        "7.3.3: answer the Close).",
    "test_message_then_end_in_one_write":
        "listen, when one write holds a whole data message and right behind it a frame that ends the "
        "connection (a broken rule in 3.2, 4.1.3, 4.1.4, 4.2.3, 4.2.4, 5.15; a Close in 7.1.6): it must echo "
        "what it read, then send its Close (1002; 1000 answering a Close), and never break down. Autobahn "
        "accepts a silent drop there (NON-STRICT, INFORMATIONAL), so the table cannot show it.",
}


def markdown(collect: Collect) -> str:
    rows = collect.rows
    counts = {side: Counter(cell(rows.get((side, c.id))) for c in CASES) for side in ("server", "client")}
    out = [
        "# Conformance: Autobahn|Testsuite, sections 1–7 and 10",
        "",
        "<!-- Generated by tests/conformance/table.py from a run of tests/conformance: do not edit by hand. -->",
        "",
        "wssviz's two real WebSocket endpoints, `wssviz listen` (the echo server) and `wssviz connect` "
        "(the instrumented client), checked against every case of sections 1 to 7 and 10 of the "
        "[Autobahn|Testsuite](https://github.com/crossbario/autobahn-testsuite): 1 framing, 2 pings and "
        "pongs, 3 reserved bits, 4 opcodes, 5 fragmentation, 6 UTF-8 handling, 7 close handling, "
        "10 auto-fragmentation (section 9, limits and performance, is not run).",
        "",
        "## How it is tested",
        "",
        "- The cases (`tests/conformance/autobahn_cases.py`) are transcribed from the suite's own case "
        "files (`autobahntestsuite/autobahntestsuite/case/case*.py`): the same frames, payloads, "
        "chops and waits, and the same expected outcomes. 7.9 uses the master branch's list of invalid "
        "close codes (0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999).",
        "- **Server** (`test_autobahn_server.py`): a raw client written in the test (TCP, TLS with the CA "
        "listen writes, the HTTP upgrade by hand, every frame built octet by octet and masked) plays "
        "Autobahn's fuzzing client against listen's `/ws` endpoint.",
        "- **Client** (`test_autobahn_client.py`): a raw server written in the test (plain `ws://` on "
        "127.0.0.1, frames unmasked) plays Autobahn's fuzzing server against "
        "`ClientSession(url, send=[]).run_all()`. The fuzzer starts a case once the client's first frame "
        "(its script's ping) is in, so a case's frames never arrive in the same read as the 101 "
        "(see *Beyond the table*).",
        "- Each case is judged as Autobahn's `Case.onConnectionLost` judges it: what the tested endpoint "
        "sent must be exactly one expected outcome (OK or NON-STRICT), and the close must be right: who "
        "sent the first Close, a clean closing handshake where required, the close code (or none), and "
        "(for a server) that the server, not the fuzzer, closed TCP. When the fuzzer expects to close, it "
        "sends Close 1000 as soon as what it received matches (Autobahn's `finishWhenDone`).",
        "- Adapted for connect: Autobahn's client cases expect an echo of every message; connect sends a "
        "fixed script (its `--send` texts, a ping, Close 1000) and echoes nothing. There an expected "
        "message is checked against what the client **read** (the server's data frames it took in, from "
        "its steps, up to the first frame that broke a rule) instead of an echo; pongs, its Close and "
        "the 6.4 fail-fast timing are judged from the wire. The client's own script ping is not counted "
        "(the fuzzer answers it when it closes). One check is added for the client that Autobahn makes "
        "only for servers: where the client must fail the connection, it must do so itself (send a Close "
        "or close TCP), not leave the fuzzer to drop it when the case's time is up.",
        "",
        "Results: **pass** (Autobahn's OK, and the close OK), **non-strict** (Autobahn's NON-STRICT: "
        "allowed, but not the strict behaviour), **informational** (Autobahn reports the behaviour "
        "without judging it), **not applicable**, **fails**.",
        "",
        "## How to run",
        "",
        "```sh",
        "python -m pytest tests/conformance -q      # the cases, both sides (about a minute)",
        "python -m pytest tests/conformance -q -k '6.4'   # some of them",
        "python tests/conformance/table.py          # run them and rewrite this page",
        "```",
        "",
        "## Summary",
        "",
        "| side | " + " | ".join(RESULTS) + " | cases |",
        "| --- | " + " | ".join("---" for _ in RESULTS) + " | --- |",
    ]
    for side in ("server", "client"):
        c = counts[side]
        out.append(f"| {side} (`wssviz {'listen' if side == 'server' else 'connect'}`) | "
                   + " | ".join(str(c.get(r, 0)) for r in RESULTS) + f" | {sum(c.values())} |")
    out += ["", "## Cases", "",
            "¹ Autobahn expects the client to echo a message here; connect echoes nothing, so the message is "
            "checked as what the client read (see *How it is tested*).", "",
            "| case | what it tests | server | client | notes |",
            "| --- | --- | --- | --- | --- |"]
    for case in CASES:
        s, c = rows.get(("server", case.id)), rows.get(("client", case.id))
        notes = "; ".join(x for x in (why(case, "server", s), why(case, "client", c)) if x)
        out.append(f"| {case.id} | {_md(case.description)} | {cell(s)} | {cell(c)}{read_mark(case) if c else ''} "
                   f"| {_md(notes)} |")
    if collect.others:
        out += ["", "## Beyond the table", "",
                "Tests in tests/conformance that are not Autobahn cases: where the run showed wssviz doing "
                "something the Autobahn verdict cannot tell apart, the stricter check stands on its own.", ""]
        for name, what in BEYOND.items():
            runs = [(n, o, line) for n, o, line in collect.others if f"::{name}[" in n or n.endswith(f"::{name}")]
            if not runs:
                continue
            out.append(f"- `{name}`: {what}")
            for nodeid, outcome, line in runs:
                test = nodeid.split("::", 1)[-1]
                word = {"passed": "pass", "failed": "fails"}.get(outcome, outcome)
                out.append(f"  - `{test}`: **{word}**" + (f": {_md(line)}" if outcome != "passed" else ""))
    out.append("")
    return "\n".join(out)


def _md(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def main(argv: list[str]) -> int:
    collect = Collect()
    code = pytest.main([str(HERE), "-q", "-p", "no:cacheprovider"], plugins=[collect])
    text = markdown(collect)
    if "--stdout" in argv:
        print(text)
    else:
        DOC.write_text(text, encoding="utf-8")
        print(f"wrote {DOC.relative_to(ROOT)}")
    return int(code)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
