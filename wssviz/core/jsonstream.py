"""One JSON document read from a binary file a piece at a time.

``json.loads`` needs the whole text; a long recording is mostly a list of small
values, and a reader that starts printing or indexing at the first of them needs only
the piece of the file that holds it.  ``JsonStream`` walks the document's outer object
and arrays itself (keys, commas, brackets) and hands each value to the standard
library's decoder (``raw_decode``) from a buffer that holds what is not yet read: it
grows only while one value is longer than it, so memory holds a piece of the file,
not the file.  A fault is a ``JsonStreamError`` saying what ``json.loads`` would
have said of the whole file (its message, line, column and offset).
"""

from __future__ import annotations

import codecs
import json
from typing import Any, BinaryIO, Callable, NoReturn


class JsonStreamError(ValueError):
    """What is wrong and where: ``kind`` is ``syntax`` (``msg`` at ``line``/``column``/
    ``offset``, as json.loads says it), ``deep`` (nesting past the interpreter's
    recursion limit), ``value`` (a value JSON readers refuse, ``msg`` says which) or
    ``utf8`` (``offset`` is the first byte that is not UTF-8)."""

    def __init__(self, kind: str, msg: str, offset: int, line: int = 0, column: int = 0) -> None:
        super().__init__(msg)
        self.kind, self.msg, self.offset, self.line, self.column = kind, msg, offset, line, column


class JsonStream:
    """A document's pieces in order: ``peek`` the next character, ``expect`` one,
    ``key`` of the object being read, ``array_item`` of the array being read,
    ``value`` (decoded whole), ``end`` of the document.  ``read_bytes`` says how far
    into the file reading has got."""

    PIECE = 1 << 18

    def __init__(self, f: BinaryIO, parse_constant: Callable[[str], Any] | None = None) -> None:
        self.f = f
        self.decode = codecs.getincrementaldecoder("utf-8")().decode
        self.buf, self.pos = "", 0
        self.base = 0  # characters before buf
        self.lines = 0  # line breaks before buf
        self.column = 0  # characters on buf's first line before buf
        self.read_bytes = 0
        self.eof = False
        self.want = self.PIECE
        self.decoder = json.JSONDecoder(parse_constant=parse_constant)

    def _drop(self) -> None:
        """Let go of what was read (its lines counted, for the places faults name)."""
        done = self.buf[:self.pos]
        if done:
            breaks = done.count("\n")
            self.lines += breaks
            self.column = len(done) - 1 - done.rindex("\n") if breaks else self.column + len(done)
            self.base += len(done)
        self.buf, self.pos = self.buf[self.pos:], 0

    def more(self) -> None:
        """Let go of what was read; read the next piece (larger while a value needs it)."""
        self._drop()
        at = self.read_bytes
        data = self.f.read(self.want)
        self.read_bytes += len(data)
        try:
            text = self.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise JsonStreamError("utf8", exc.reason, at + exc.start) from None
        if not data:
            self.eof = True
        if at == 0:
            text = text.removeprefix("\ufeff")
        self.buf += text

    def _fail(self, msg: str, pos: int) -> NoReturn:
        before = self.buf[:pos]
        breaks = before.count("\n")
        line = self.lines + breaks + 1
        column = (len(before) - before.rindex("\n") if breaks else self.column + len(before) + 1)
        raise JsonStreamError("syntax", msg, self.base + pos, line, column)

    def peek(self) -> str:
        """The next character that is not white space ('' at the end of the file)."""
        while True:
            buf = self.buf
            n = len(buf)
            pos = self.pos
            while pos < n and buf[pos] in " \t\r\n":
                pos += 1
            self.pos = pos
            if pos < n or self.eof:
                return buf[pos] if pos < n else ""
            self.more()

    def expect(self, char: str) -> None:
        if self.peek() != char:
            self._fail(f"Expecting '{char}'", self.pos)
        self.pos += 1

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                v, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self.eof:
                    self._fail(exc.msg, exc.pos)
                self.want *= 2  # a value longer than what is read: read more at once
                self.more()
                continue
            except RecursionError:
                raise JsonStreamError("deep", "nested too deeply", self.base + self.pos) from None
            except ValueError as exc:  # e.g. an integer of thousands of digits, NaN
                raise JsonStreamError("value", str(exc), self.base + self.pos) from None
            if not self.eof and not isinstance(v, (str, dict, list)) and \
                    (end == len(self.buf) or self.buf[end] in "0123456789.eE+-"):
                self.more()  # a number may go on in the next piece
                continue
            self.want = self.PIECE
            self.pos = end
            if end > 2 * self.PIECE:  # after a long value: let it go now
                self._drop()
            return v

    def key(self, first: bool) -> str | None:
        """The next key of the object being read (None at its end)."""
        c = self.peek()
        if c == "}":
            self.pos += 1
            return None
        if not first:
            if c != ",":
                self._fail("Expecting ',' delimiter", self.pos)
            self.pos += 1
            c = self.peek()
        if c != '"':
            self._fail("Expecting property name enclosed in double quotes", self.pos)
        k = self.value()
        if self.peek() != ":":
            self._fail("Expecting ':' delimiter", self.pos)
        self.pos += 1
        return k

    def array_item(self, first: bool) -> bool:
        """Whether another item of the array being read follows (False at its ']')."""
        c = self.peek()
        if c == "]":
            self.pos += 1
            return False
        if first:
            return True
        if c != ",":
            self._fail("Expecting ',' delimiter", self.pos)
        self.pos += 1
        return True

    def rest_of_object(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        while (k := self.key(first=False)) is not None:
            out[k] = self.value()
        return out

    def end(self) -> None:
        if self.peek() != "":
            self._fail("Extra data", self.pos)
