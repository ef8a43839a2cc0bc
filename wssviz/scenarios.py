"""Scenario files → settings for the live pair.

A scenario is one TOML file (the format is documented in scenarios/README.md).  The
bundled ones live in the top-level ``scenarios/`` folder of the source tree, which is
installed as the package ``wssviz.scenario_files``: they are read through
``importlib.resources``, so an installed wheel has them too.  A learner's own folders
come first: ``--scenarios DIR`` (``use_folders``) and the ``WSSVIZ_SCENARIOS``
environment variable (folders separated by ``os.pathsep``); a name found in an
earlier folder hides the same name later on the search path.

``catalog()`` lists them for a picker, ``load(name)`` turns one into ``Settings``, and
``check_outcome`` compares a session's steps with the outcome the file promises
(tests use it; so can a view).

Every problem with a file is a ``ScenarioError`` naming the file, the line when it
is known, and the field: ``scenario tls12.toml, line 7, [tls] version: must be
one of 1.2, 1.3``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable, Protocol

from wssviz import memo
from wssviz.live.settings import (CERT_ISSUERS, CONNECTION_FAULTS, FRAME_FAULTS, KINDS, Message,
                                  Settings)
from wssviz.steps import ALL_KINDS, Step

#: The package that holds the bundled scenario files (the source tree's scenarios/).
BUNDLED = "wssviz.scenario_files"
#: Folders of the learner's own scenarios, searched before the bundled ones.
ENV = "WSSVIZ_SCENARIOS"
NAME_RE = re.compile(r"[a-z0-9][a-z0-9-]*\Z")


class ScenarioError(ValueError):
    """A scenario that cannot be loaded: says which file, line and field."""


@dataclass
class ScenarioInfo:
    name: str
    title: str
    goal: str  # one line
    description: str  # a paragraph
    outcome: str  # the expected outcome, in words
    path: str = ""
    expect: dict[str, Any] = field(default_factory=dict)
    source: str = "bundled"  # or the path of a learner's own file

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "goal": self.goal,
                "description": self.description, "outcome": self.outcome, "source": self.source}


class File(Protocol):
    """What a scenario file is to this module: a ``pathlib.Path`` or an
    ``importlib.resources`` Traversable."""

    name: str

    def read_bytes(self) -> bytes: ...


def bundled() -> Any:
    """The folder of bundled scenarios, as an ``importlib.resources`` Traversable."""
    return resources.files(BUNDLED)


_user_folders: list[Path] = []


def use_folders(folders: Iterable[str | os.PathLike]) -> None:
    """Search these folders (``--scenarios DIR``) before ``$WSSVIZ_SCENARIOS`` and the
    bundled scenarios.  A folder that does not exist is a ``ScenarioError``."""
    paths = [Path(os.path.expanduser(f)) for f in folders]
    for p in paths:
        if not p.is_dir():
            raise ScenarioError(f"scenario folder {str(p)!r} is not a folder")
    _user_folders[:] = paths


def search_path() -> list[Any]:
    """Where scenarios are looked for, first match wins: the ``--scenarios`` folders,
    the ``$WSSVIZ_SCENARIOS`` folders, then the bundled ones."""
    env = [Path(os.path.expanduser(p)) for p in os.environ.get(ENV, "").split(os.pathsep) if p]
    for p in env:
        if not p.is_dir():
            raise ScenarioError(f"{ENV} names {str(p)!r}, which is not a folder")
    return [*_user_folders, *env, bundled()]


# --- the schema ----------------------------------------------------------------------

def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise TypeError("must be a string")
    return v


def _nonempty(v: Any) -> str:
    if not _str(v).strip():
        raise TypeError("must not be empty")
    return v


def _header_value(v: Any) -> str:
    """A header value a client may send: printable, no CR or LF (RFC 9110 §5.5)."""
    if not isinstance(v, str) or not v.strip():
        raise TypeError("must be a non-empty string")
    if any(ord(c) < 0x20 and c != "\t" or ord(c) == 0x7F for c in v):
        raise TypeError("must not contain control characters (CR, LF, …): a header value is one line")
    return v


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise TypeError("must be true or false")
    return v


def _int(lo: int, hi: int) -> Callable[[Any], int]:
    def check(v: Any) -> int:
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            raise TypeError(f"must be an integer from {lo} to {hi}")
        return v
    return check


def _seconds(v: Any) -> float:
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v <= 3600:
        raise TypeError("must be a number of seconds from 0 to 3600")
    return float(v)


def _strs(v: Any) -> list[str]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise TypeError("must be a list of strings")
    return list(v)


def _one_of(*choices: str) -> Callable[[Any], str]:
    def check(v: Any) -> str:
        if v not in choices:
            raise TypeError(f"must be one of {', '.join(choices)}")
        return v
    return check


def _origin(v: Any) -> str | None:
    if v is False:
        return None
    if not isinstance(v, str):
        raise TypeError("must be a string, or false to send no Origin")
    return _header_value(v)


def _days(v: Any) -> list[int]:
    if (not isinstance(v, list) or len(v) != 2 or not all(isinstance(x, int) and not isinstance(x, bool)
                                                          for x in v) or v[0] >= v[1]):
        raise TypeError("must be [not_before, not_after] in days from now, not_before < not_after")
    if not all(-36500 <= x <= 36500 for x in v):
        raise TypeError("must be within 100 years of now (-36500 to 36500 days): a certificate's "
                        "dates run from 1950 to 9999 (RFC 5280 §4.1.2.5)")
    return list(v)


_LABEL_RE = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")


def _host(v: Any) -> str:
    """A host name (RFC 1035 §2.3.4: labels of 1-63 letters, digits, hyphens; 253 in all),
    an IPv4 address, or ``*.`` before a name (a wildcard certificate)."""
    if not isinstance(v, str) or not v:
        raise TypeError("must be a host name, not empty")
    name = v[2:] if v.startswith("*.") else v
    if len(v) > 253 or not all(_LABEL_RE.match(label) for label in name.rstrip(".").split(".")):
        raise TypeError(f"{v!r} is not a host name (labels of 1 to 63 letters, digits or hyphens, "
                        "253 characters in all; RFC 1035 §2.3.4)")
    return v


def _hosts(v: Any) -> list[str]:
    hosts = _strs(v)
    if not hosts:
        raise TypeError("must name at least one host")
    return [_host(h) for h in hosts]


def _token(v: Any) -> str:
    """An HTTP token (RFC 9110 §5.6.2): a subprotocol name."""
    if not isinstance(v, str) or not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", v):
        raise TypeError(f"{v!r} is not a token (RFC 9110 §5.6.2: letters, digits and !#$%&'*+-.^_`|~)")
    return v


def _tokens(v: Any) -> list[str]:
    return [_token(x) for x in _strs(v)]


def _header_values(v: Any) -> list[str]:
    return [_header_value(x) for x in _strs(v)]


def _openssl(what: str) -> Callable[[Any], str]:
    """A value OpenSSL must accept (a cipher list, a group list): tried on a throwaway
    context now, so a bad one is refused at load, with its line."""
    def check(v: Any) -> str:
        import ssl

        from wssviz.live import openssl_ext

        value = _nonempty(v)
        if any(not c.isprintable() for c in value) or len(value) > 1000:
            raise TypeError("must be one printable line")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        try:
            {"suites": lambda: openssl_ext.set_tls13_ciphersuites(ctx, value),
             "ciphers": lambda: ctx.set_ciphers(value),
             "groups": lambda: openssl_ext.set_groups(ctx, value)}[what]()
        except (ssl.SSLError, ValueError, OSError) as exc:
            raise TypeError(f"OpenSSL refuses {value!r} ({exc})") from None
        return value
    return check


def _deflate(v: Any) -> dict[str, Any] | None:
    if v is False:
        return None
    if v is True:
        return {}
    if not isinstance(v, dict):
        raise TypeError("must be true, false or a table of permessage-deflate preferences")
    allowed = {"client_no_context_takeover": bool, "server_no_context_takeover": bool,
               "client_max_window_bits": int, "server_max_window_bits": int}
    for k, x in v.items():
        if k not in allowed or not isinstance(x, allowed[k]) or (allowed[k] is int and isinstance(x, bool)):
            raise TypeError(f"unknown or mistyped preference {k!r} (known: {', '.join(allowed)})")
        if allowed[k] is int and not 8 <= x <= 15:
            raise TypeError(f"{k} must be 8 to 15 (RFC 7692 §7.1.2)")
    return dict(v)


def _backoff(v: Any) -> list[float]:
    if not isinstance(v, list) or not v:
        raise TypeError("must be a non-empty list of seconds")
    return [_seconds(x) for x in v]


#: (table, key) -> (Settings field, validator).  Table "" is the top level.
SCHEMA: dict[tuple[str, str], tuple[str, Callable[[Any], Any]]] = {
    ("", "name"): ("name", _nonempty),
    ("", "title"): ("title", _nonempty),
    ("", "goal"): ("goal", _nonempty),
    ("", "description"): ("description", _str),
    ("", "url"): ("url", _str),
    ("tls", "version"): ("tls_version", _one_of("1.2", "1.3")),
    ("tls", "suites"): ("tls13_suites", _openssl("suites")),
    ("tls", "ciphers"): ("tls12_ciphers", _openssl("ciphers")),
    ("tls", "client_groups"): ("client_groups", _openssl("groups")),
    ("tls", "server_groups"): ("server_groups", _openssl("groups")),
    ("tls", "num_tickets"): ("num_tickets", _int(0, 8)),
    ("tls", "resume"): ("resume", _bool),
    ("tls", "client_certificate"): ("client_cert", _bool),
    ("certificate", "hosts"): ("cert_hosts", _hosts),
    ("certificate", "issuer"): ("cert_issuer", _one_of(*CERT_ISSUERS)),
    ("certificate", "valid_days"): ("cert_valid_days", _days),
    ("client", "origin"): ("origin", _origin),
    ("client", "key"): ("key", _header_value),
    ("client", "protocols"): ("protocols", _tokens),
    ("client", "extensions"): ("extensions", _header_value),
    ("client", "cookie"): ("cookie", _header_value),
    ("client", "trust"): ("client_trust", _strs),
    ("client", "require_protocol"): ("require_protocol", _bool),
    ("client", "seed"): ("seed", _int(0, 2**32)),
    ("client", "ping_interval"): ("ping_interval", _seconds),
    ("client", "pong_timeout"): ("pong_timeout", _seconds),
    ("client", "pings"): ("pings", _int(1, 100)),
    ("client", "reconnect_backoff"): ("reconnect_backoff", _backoff),
    ("server", "protocols"): ("server_protocols", _tokens),
    ("server", "allowed_origins"): ("allowed_origins", _header_values),
    ("server", "deflate"): ("deflate", _deflate),
    ("server", "max_message"): ("max_message", _int(1, 64 * 2**20)),
    ("server", "reply"): ("reply", _one_of("echo", "ack")),
}

MESSAGE_SCHEMA: dict[str, Callable[[Any], Any]] = {
    "kind": _one_of(*KINDS),
    "data": _str,
    "hex": _str,
    "size": _int(0, 16 * 2**20),
    "fin": _bool,
    "mask": _str,
    "code": _int(0, 65535),
    "fault": _one_of(*FRAME_FAULTS),
}

EXPECT_SCHEMA: dict[str, Callable[[Any], Any]] = {
    "outcome": _nonempty,
    "kinds": _strs,  # these kinds appear in this order (others may come between)
    "last": _strs,  # the session's last kinds, exactly
    "close_code": _int(1000, 4999),  # some close frame carries this code
    "alert": _nonempty,  # some tls.alert has this description name
    "http_status": _int(100, 599),
    "cert_check": _one_of("ok", "warning", "error", "none"),
    "accept_check": _one_of("ok", "warning", "error", "none"),
    "connections": _int(1, 10),
    "errors": _bool,  # whether any step has status error
}

TABLES = {"", "tls", "certificate", "client", "server", "faults", "expect", "messages"}


# --- loading ---------------------------------------------------------------------------


def _line_of(text: str, table: str, key: str | None, index: int | None = None) -> int | None:
    """The line (1-based) where ``key`` is set in ``[table]`` (or its ``index``-th
    ``[[table]]``); the table header's line when ``key`` is None."""
    current, count, header_line = "", -1, None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        m = re.match(r"\[\[\s*([\w.]+)\s*\]\]|\[\s*([\w.\"-]+)\s*\]", line)
        if m:
            current = (m[1] or m[2]).replace('"', "")
            if key is not None and current == f"{table}.{key}" and index is None:
                return n  # the value is a table of its own: [server.deflate]
            if m[1]:
                count = count + 1 if current == table else count
            if current == table and (index is None or count == index):
                header_line = n
                if key is None:
                    return n
            continue
        if current == table and (index is None or count == index) and key is not None:
            k = re.match(r'"?([\w.-]+)"?\s*=', line)
            if k and k[1] == key:
                return n
    return header_line


def _fail(path: Path, text: str, where: str, why: str, table: str = "", key: str | None = None,
          index: int | None = None) -> ScenarioError:
    line = _line_of(text, table, key, index) if text else None
    at = f", line {line}" if line else ""
    return ScenarioError(f"scenario {path.name}{at}, {where}: {why}")


def _where(table: str, key: str) -> str:
    return f"[{table}] {key}" if table else key


def _folders(folder: Path | str | None) -> list[Any]:
    return [Path(folder)] if folder is not None else search_path()


def _files(folder: Path | str | None) -> dict[str, Any]:
    """name -> scenario file, the first folder that has a name winning."""
    out: dict[str, Any] = {}
    for d in _folders(folder):
        try:
            entries = sorted(d.iterdir(), key=lambda e: e.name)
        except (OSError, NotADirectoryError):
            continue
        for e in entries:
            if e.name.endswith(".toml") and e.is_file():
                out.setdefault(e.name[:-5], e)
    return out


def _path_for(name: str, folder: Path | str | None) -> Any:
    if name.endswith(".toml"):
        return Path(name)
    if not NAME_RE.match(name):
        raise ScenarioError(f"scenario name {name!r}: use lowercase letters, digits and hyphens")
    files = _files(folder)
    if name not in files:
        known = ", ".join(sorted(files)) or "none"
        raise ScenarioError(f"unknown scenario {name!r} (known: {known})")
    return files[name]


def names(folder: Path | str | None = None) -> list[str]:
    return sorted(_files(folder))


def read(path: File | str) -> tuple[Settings, ScenarioInfo]:
    """Parse one scenario file (a path or a packaged resource) into Settings and its
    catalog entry."""
    if isinstance(path, str):
        path = Path(path)
    stem = path.name[:-5] if path.name.endswith(".toml") else path.name
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"scenario {path.name}: cannot read: {exc}") from None
    try:
        doc = memo.toml(raw, f"scenario-{stem}")
    except ValueError as exc:  # tomllib.TOMLDecodeError
        raise ScenarioError(f"scenario {path.name}: not valid TOML: {exc}") from None

    values: dict[str, Any] = {}
    for key, value in doc.items():
        if isinstance(value, dict) and key in TABLES - {"", "messages", "faults", "expect"}:
            for sub, v in value.items():
                _take(path, text, values, key, sub, v)
        elif key in ("messages", "faults", "expect"):
            continue
        elif isinstance(value, (dict, list)) and key in TABLES:
            raise _fail(path, text, f"[{key}]", "has the wrong shape", key)
        else:
            _take(path, text, values, "", key, value)
    for required in ("name", "title", "goal"):
        if required not in values:
            raise _fail(path, text, required, "is required")
    if values["name"] != stem:
        raise _fail(path, text, "name", f"must match the file name ({stem!r})", "", "name")

    url = values.pop("url", None)
    if url is not None:
        m = re.match(r"(wss?)://([A-Za-z0-9.-]+)(/[!-~]*)?\Z", url)
        if not m:
            raise _fail(path, text, "url", "must look like wss://host/path or ws://host/path "
                        "(printable ASCII, no spaces)", "", "url")
        try:
            _host(m[2])
        except TypeError as exc:
            raise _fail(path, text, "url", str(exc), "", "url") from None
        values["scheme"], values["host"], values["path"] = m[1], m[2], m[3] or "/"

    values["messages"] = _messages(path, text, doc.get("messages"), values)
    values["faults"] = _faults(path, text, doc.get("faults", {}))
    values["expect"] = _expect(path, text, doc.get("expect", {}))
    settings = Settings(**values)
    _cross_checks(path, text, settings)
    bundled_file = str(Path(str(path)).parent) == str(bundled())
    info = ScenarioInfo(settings.name, settings.title, settings.goal,
                        settings.description.strip(), settings.expect.get("outcome", ""),
                        str(path), settings.expect, "bundled" if bundled_file else str(path))
    return settings, info


def _take(path: Path, text: str, values: dict, table: str, key: str, v: Any) -> None:
    spec = SCHEMA.get((table, key))
    if spec is None:
        known = sorted(k for t, k in SCHEMA if t == table)
        raise _fail(path, text, _where(table, key), f"unknown field (known here: {', '.join(known)})",
                    table, key)
    name, check = spec
    try:
        values[name] = check(v)
    except TypeError as exc:
        raise _fail(path, text, _where(table, key), str(exc), table, key) from None


def _messages(path: Path, text: str, raw: Any, values: dict) -> list[Message]:
    if raw is None:
        return Settings().messages
    if not isinstance(raw, list) or not all(isinstance(m, dict) for m in raw):
        raise _fail(path, text, "[[messages]]", "must be an array of tables", "messages")
    out = []
    deflate = values.get("deflate") is not None and values.get("extensions") is not None
    for i, m in enumerate(raw):
        args: dict[str, Any] = {}
        for key, v in m.items():
            check = MESSAGE_SCHEMA.get(key)
            where = f"messages[{i}] {key}"
            if check is None:
                raise _fail(path, text, where, f"unknown field (known: {', '.join(MESSAGE_SCHEMA)})",
                            "messages", key, i)
            try:
                args[key] = check(v)
            except TypeError as exc:
                raise _fail(path, text, where, str(exc), "messages", key, i) from None
        if "hex" in args:
            try:
                bytes.fromhex(args["hex"])
            except ValueError:
                raise _fail(path, text, f"messages[{i}] hex", "is not hexadecimal", "messages", "hex",
                            i) from None
        if "mask" in args and (len(args["mask"]) != 8 or not re.match(r"[0-9a-fA-F]+\Z", args["mask"])):
            raise _fail(path, text, f"messages[{i}] mask", "must be 4 bytes in hex (8 digits)",
                        "messages", "mask", i)
        msg = Message(**args)
        if msg.kind == "close" and msg.code is None and msg.data:
            raise _fail(path, text, f"messages[{i}] data", "a close reason needs a code",
                        "messages", "data", i)
        if msg.fault == "latin1":
            try:
                msg.data.encode("latin-1")
            except UnicodeEncodeError as exc:
                raise _fail(path, text, f"messages[{i}] data", f"character {exc.start} cannot be written "
                            "in ISO-8859-1, which the latin1 fault sends", "messages", "data", i) from None
        if msg.kind == "close" and msg.fault is None and msg.code is not None:
            from wssviz.core.frames import close_code_sendable

            if not close_code_sendable(msg.code):
                raise _fail(path, text, f"messages[{i}] code", f"{msg.code} may not be sent in a Close "
                            "(RFC 6455 §7.4); a fault would be needed", "messages", "code", i)
        problems = msg.problems(deflate=deflate)
        if problems and msg.fault is None:
            raise _fail(path, text, f"messages[{i}]",
                        f"the client would not send this frame: {problems[0]}; name the frame "
                        f"hook that makes it misbehave (fault = one of {', '.join(FRAME_FAULTS)})",
                        "messages", None, i)
        out.append(msg)
    return out


def _faults(path: Path, text: str, raw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not isinstance(raw, dict):
        raise _fail(path, text, "[faults]", "must be a table", "faults")
    for side, hooks in raw.items():
        if side not in ("client", "server") or not isinstance(hooks, dict):
            raise _fail(path, text, f"[faults.{side}]", "must be [faults.client] or [faults.server]",
                        "faults")
        for hook, v in hooks.items():
            name = f"{side}.{hook}"
            table = f"faults.{side}"
            if name not in CONNECTION_FAULTS:
                known = ", ".join(CONNECTION_FAULTS)
                raise _fail(path, text, f"[{table}] {hook}", f"unknown fault hook (known: {known})",
                            table, hook)
            kind = CONNECTION_FAULTS[name][0]
            if not isinstance(v, kind) or (kind is int and isinstance(v, bool)):
                raise _fail(path, text, f"[{table}] {hook}", f"must be a {kind.__name__}", table, hook)
            if kind is str:
                try:
                    _header_value(v)
                except TypeError as exc:
                    raise _fail(path, text, f"[{table}] {hook}", str(exc), table, hook) from None
            if kind is int and not 0 <= v <= 1000:
                raise _fail(path, text, f"[{table}] {hook}", "must be from 0 to 1000", table, hook)
            out[name] = v
    return out


def _expect(path: Path, text: str, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _fail(path, text, "[expect]", "must be a table", "expect")
    out = {}
    for key, v in raw.items():
        check = EXPECT_SCHEMA.get(key)
        if check is None:
            raise _fail(path, text, f"[expect] {key}", f"unknown field (known: {', '.join(EXPECT_SCHEMA)})",
                        "expect", key)
        try:
            out[key] = check(v)
        except TypeError as exc:
            raise _fail(path, text, f"[expect] {key}", str(exc), "expect", key) from None
        if key in ("kinds", "last"):
            bad = [k for k in v if k not in ALL_KINDS]
            if bad:
                raise _fail(path, text, f"[expect] {key}", f"unknown step kind {bad[0]!r}", "expect", key)
    if "outcome" not in out:
        raise _fail(path, text, "[expect] outcome", "is required (the expected outcome, in words)",
                    "expect", None)
    return out


def _cross_checks(path: Path, text: str, s: Settings) -> None:
    for name in s.client_trust:
        if name not in CERT_ISSUERS:
            raise _fail(path, text, "[client] trust", f"{name!r} is not one of {', '.join(CERT_ISSUERS)}",
                        "client", "trust")
    if s.scheme == "ws" and (s.resume or s.client_cert):
        raise _fail(path, text, "[tls]", "ws:// has no TLS: resume and client_certificate need wss://",
                    "tls", None)
    from wssviz.core.key import decode_key  # not the whole handshake module: a first screen waits on this

    if decode_key(s.key) is None and "client.omit_header" not in s.faults:
        raise _fail(path, text, "[client] key", "must be the base64 of 16 bytes (RFC 6455 §4.1)",
                    "client", "key")


# --- the public face -------------------------------------------------------------------------


def load(name: str, folder: Path | str | None = None) -> Settings:
    """The settings of scenario ``name`` (or of a ``.toml`` path)."""
    return read(_path_for(name, folder))[0]


def info(name: str, folder: Path | str | None = None) -> ScenarioInfo:
    return read(_path_for(name, folder))[1]


def catalog(folder: Path | str | None = None) -> list[ScenarioInfo]:
    """Every scenario on the search path (or in ``folder``), seed-example first, then by name."""
    out = [read(f)[1] for f in _files(folder).values()]
    return sorted(out, key=lambda i: (i.name != "seed-example", i.name))


# --- outcomes ------------------------------------------------------------------------------


def close_codes(steps: list[Step]) -> list[int]:
    """The status codes carried by close frames, in order."""
    return [s.raw("ws.frame.close_code") for s in steps
            if s.kind == "ws.frame" and s.raw("ws.frame.opcode") == 8
            and isinstance(s.raw("ws.frame.close_code"), int)]


def check_outcome(expect: dict[str, Any], steps: list[Step]) -> list[str]:
    """What in ``steps`` differs from the outcome ``expect`` describes (empty: all met)."""
    problems: list[str] = []
    kinds = [s.kind for s in steps]
    if "kinds" in expect:
        it = iter(kinds)
        missing = [k for k in expect["kinds"] if k not in it]
        if missing:
            problems.append(f"kinds not met in order, from {missing[0]!r}")
    if "last" in expect and kinds[-len(expect["last"]):] != expect["last"]:
        problems.append(f"last kinds are {kinds[-len(expect['last']):]}, expected {expect['last']}")
    if "close_code" in expect and expect["close_code"] not in close_codes(steps):
        problems.append(f"no close frame carries {expect['close_code']} (saw {close_codes(steps)})")
    if "alert" in expect:
        from wssviz.dissect import names

        alerts = [names.alert(s.raw("tls.alert.description")) for s in steps if s.kind == "tls.alert"]
        if expect["alert"] not in alerts:
            problems.append(f"no alert {expect['alert']!r} (saw {alerts})")
    if "http_status" in expect:
        codes = [s.raw("http.status_code") for s in steps if s.kind == "http.upgrade_response"]
        if expect["http_status"] not in codes:
            problems.append(f"no response with status {expect['http_status']} (saw {codes})")
    for key, kind in (("cert_check", "tls.cert_check"), ("accept_check", "ws.accept_check")):
        if key in expect:
            got = [s.status for s in steps if s.kind == kind] or ["none"]
            if expect[key] not in got:
                problems.append(f"{kind} status {got}, expected {expect[key]}")
    if "connections" in expect and kinds.count("tcp.connect") != expect["connections"]:
        problems.append(f"{kinds.count('tcp.connect')} connections, expected {expect['connections']}")
    if "errors" in expect and any(s.status == "error" for s in steps) != expect["errors"]:
        problems.append("steps with status error" + (" missing" if expect["errors"] else " present"))
    return problems
