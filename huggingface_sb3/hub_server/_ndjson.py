"""A streaming NDJSON parser for the commit endpoint, which receives whole files inside JSON strings.

``huggingface_hub`` sends a commit as one JSON object per line, and a ``file`` line carries the file's entire
content base64-encoded in a single string, so one line can be hundreds of megabytes. ``json.loads`` would hold
the line, its decoded ``str`` and the parsed value in memory at once. This parser instead reads the (already
spooled to disk) body in fixed-size chunks, copies strings segment by segment between the bytes that need
attention (``"``, ``\\`` and control characters, found with ``bytes.translate`` + ``bytes.find``), and moves any
string larger than a threshold into an anonymous temporary file, a :class:`SpooledString`. Memory use is thus
bounded by the chunk size and the threshold, not by the size of the values.
"""

from __future__ import annotations

import codecs
import os
import re
import tempfile
from collections.abc import Iterator
from types import TracebackType
from typing import Any, BinaryIO, cast

__all__ = ["NDJSONError", "SpooledString", "iter_ndjson"]

_MAX_KEY_BYTES = 64 * 1024  # object keys stay in memory as ``str``, so they are never spooled
_MAX_NUMBER_CHARS = 256  # far beyond any size or count; longer runs would make parsing quadratic
_WHITESPACE = re.compile(rb"[ \t\r\n]*")
_LINE_WHITESPACE = re.compile(rb"[ \t\r]*")  # what may follow a top-level value before the newline
_NUMBER_CHARS = re.compile(rb"[-+.0-9eE]*")
_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_HEX4 = re.compile(rb"[0-9a-fA-F]{4}")
# Maps the bytes that end a plain run inside a string (quote, backslash, control characters) to 0, others to themselves.
_STRING_STOPS = bytes(0 if i < 0x20 or i in b'"\\' else i for i in range(256))
_ESCAPES = {ord(code): char.encode() for code, char in zip('"\\/bfnrt', '"\\/\b\f\n\r\t', strict=True)}
_LITERALS = {ord("t"): (b"true", True), ord("f"): (b"false", False), ord("n"): (b"null", None)}


def _match_end(run: re.Pattern[bytes], data: bytes, pos: int) -> int:
    """Where the run of ``run`` (a ``[...]*`` pattern) starting at ``pos`` ends."""
    found = run.match(data, pos)
    assert found is not None, "a `*` pattern always matches"
    return found.end()


class NDJSONError(ValueError):
    """Malformed NDJSON; the message names the 1-based line number and what was wrong.

    ``line`` is the line on which the problem was found (a value may span lines, since JSON allows newlines as
    whitespace inside it).
    """

    line: int

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


class SpooledString:
    """A JSON string value longer than the spool threshold, kept in an anonymous temporary file as UTF-8 bytes."""

    def __init__(self, file: BinaryIO, size: int) -> None:
        self._file = file
        self.size = size

    def open(self) -> BinaryIO:
        """The temporary file itself, rewound: every call returns the same reader, positioned at the start."""
        self._file.seek(0)
        return self._file

    def read_text(self) -> str:
        """The whole string in memory (meant for tests and small values)."""
        return self.open().read().decode("utf-8")

    def close(self) -> None:
        """Delete the temporary file; calling it again does nothing."""
        self._file.close()

    def __enter__(self) -> SpooledString:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SpooledString(size={self.size}{', closed' if self._file.closed else ''})"


def iter_ndjson(
    stream: BinaryIO,
    *,
    spool_threshold: int = 64 * 1024,
    spool_dir: str | os.PathLike[str] | None = None,
    max_depth: int = 32,
    read_size: int = 1 << 20,
) -> Iterator[Any]:
    """Yield one parsed JSON value per non-blank line of ``stream``.

    Objects become dicts, arrays lists, numbers int or float, and strings str, except strings whose UTF-8 size
    exceeds ``spool_threshold``, which become :class:`SpooledString` (temporary files in ``spool_dir``; the
    caller closes them). Object keys are always str and at most 64 KiB. Each value must end its line (only
    spaces, tabs and ``\\r`` may follow it); blank lines are skipped. Malformed input, including nesting deeper
    than ``max_depth``, raises :class:`NDJSONError` after closing the spooled strings of the failing line.
    """
    if read_size < 1 or spool_threshold < 0 or max_depth < 1:
        raise ValueError("read_size and max_depth must be positive and spool_threshold non-negative")
    return _Parser(stream, spool_threshold, spool_dir, max_depth, read_size).values()


def _describe(byte: int) -> str:
    """How an error message names the byte that was found (-1 means end of input)."""
    if byte < 0:
        return "end of input"
    return repr(chr(byte)) if 0x20 < byte < 0x7F else f"byte 0x{byte:02x}"


def _write_utf8(file: BinaryIO, decoder: codecs.IncrementalDecoder, parts: list[bytes]) -> int:
    """Append ``parts`` to ``file`` once ``decoder`` accepts them as UTF-8; empty the list and return the size."""
    data = b"".join(parts)
    parts.clear()
    decoder.decode(data)
    file.write(data)
    return len(data)


class _Parser:
    """The state of one pass over a stream: a buffer of unconsumed bytes, the line number, the open temp files."""

    def __init__(
        self,
        stream: BinaryIO,
        spool_threshold: int,
        spool_dir: str | os.PathLike[str] | None,
        max_depth: int,
        read_size: int,
    ) -> None:
        self._stream = stream
        self._spool_threshold = spool_threshold
        self._spool_dir = spool_dir
        self._max_depth = max_depth
        self._read_size = read_size
        self._buf = b""
        self._stops = b""  # self._buf translated by _STRING_STOPS
        self._pos = 0
        self._eof = False
        self._line = 1
        self._files: list[BinaryIO] = []  # temporary files created while parsing the current value

    def values(self) -> Iterator[Any]:
        """The top-level values, one per non-blank line."""
        while self._skip(_WHITESPACE) >= 0:
            self._files = []
            try:
                value = self._value()
                after = self._skip(_LINE_WHITESPACE)
                if after not in (-1, ord("\n")):
                    raise self._unexpected(after, "end of line after the value")
            except BaseException:
                for file in self._files:
                    file.close()
                raise
            yield value

    def _error(self, message: str) -> NDJSONError:
        return NDJSONError(self._line, message)

    def _unexpected(self, byte: int, expected: str) -> NDJSONError:
        return self._error(f"expected {expected}, found {_describe(byte)}")

    def _fill(self) -> bool:
        """Read one more chunk after the unconsumed bytes; False at end of input."""
        chunk = b"" if self._eof else self._stream.read(self._read_size)
        if not chunk:
            self._eof = True
            return False
        self._buf = self._buf[self._pos :] + chunk
        self._stops = self._buf.translate(_STRING_STOPS)
        self._pos = 0
        return True

    def _ensure(self, count: int) -> bool:
        """Whether ``count`` bytes are available from the current position, reading more as needed."""
        while len(self._buf) - self._pos < count:
            if not self._fill():
                return False
        return True

    def _skip(self, whitespace: re.Pattern[bytes]) -> int:
        """Consume whitespace (counting newlines) and return the next byte without consuming it, or -1 at EOF."""
        while True:
            end = _match_end(whitespace, self._buf, self._pos)
            self._line += self._buf.count(b"\n", self._pos, end)
            self._pos = end
            if end < len(self._buf):
                return self._buf[end]
            if not self._fill():
                return -1

    def _value(self) -> Any:
        """Parse one JSON value, iteratively so that deep nesting cannot exhaust the Python stack."""
        stack: list[tuple[Any, str | None]] = []  # the open containers, each with the key its next value gets
        while True:
            byte = self._skip(_WHITESPACE)
            if byte in (ord("{"), ord("[")):
                if len(stack) >= self._max_depth:
                    raise self._error(f"nesting deeper than {self._max_depth} levels")
                self._pos += 1
                is_object = byte == ord("{")
                if self._skip(_WHITESPACE) == ord("}" if is_object else "]"):
                    self._pos += 1
                    value: Any = {} if is_object else []
                else:
                    stack.append(({}, self._key()) if is_object else ([], None))
                    continue
            else:
                value = self._scalar(byte)
            while stack:  # store the value, then close every container it completes
                container, key = stack.pop()
                if key is None:
                    container.append(value)
                else:
                    container[key] = value
                after = self._skip(_WHITESPACE)
                if after == ord(","):
                    self._pos += 1
                    stack.append((container, None if key is None else self._key()))
                    break
                if after != ord("]" if key is None else "}"):
                    raise self._unexpected(after, "',' or ']'" if key is None else "',' or '}'")
                self._pos += 1
                value = container
            else:
                return value

    def _key(self) -> str:
        """Parse an object key and the colon after it."""
        byte = self._skip(_WHITESPACE)
        if byte != ord('"'):
            raise self._unexpected(byte, "a string key")
        key = self._string(spool=False)
        byte = self._skip(_WHITESPACE)
        if byte != ord(":"):
            raise self._unexpected(byte, "':'")
        self._pos += 1
        return key

    def _scalar(self, byte: int) -> Any:
        """Parse a string, number or literal starting with ``byte``."""
        if byte == ord('"'):
            return self._string(spool=True)
        if byte in _LITERALS:
            word, value = _LITERALS[byte]
            self._ensure(len(word))
            if not self._buf.startswith(word, self._pos):
                raise self._error(f"invalid literal, expected {word.decode()!r}")
            self._pos += len(word)
            return value
        if byte == ord("-") or ord("0") <= byte <= ord("9"):
            return self._number()
        raise self._unexpected(byte, "a value")

    def _number(self) -> int | float:
        """Parse a number: take the whole run of number characters, then check it against the JSON grammar."""
        while True:
            end = _match_end(_NUMBER_CHARS, self._buf, self._pos)
            if end - self._pos > _MAX_NUMBER_CHARS:
                raise self._error(f"number longer than {_MAX_NUMBER_CHARS} characters")
            if end < len(self._buf) or not self._fill():
                break
        token = self._buf[self._pos : end]
        match = _NUMBER.fullmatch(token)
        if match is None:
            raise self._error(f"invalid number {token[:40].decode()!r}")
        self._pos = end
        if match.group(1) is None and match.group(2) is None:
            try:
                return int(token)
            except ValueError as exc:  # more digits than sys.get_int_max_str_digits() allows
                raise self._error(str(exc)) from None
        return float(token)

    def _string(self, *, spool: bool) -> Any:
        """Parse a string (the current byte is its opening quote) into str, or SpooledString when ``spool`` allows.

        Its UTF-8 bytes collect in ``parts``; each time they exceed the limit they are moved to a temporary file,
        through an incremental decoder that checks they are valid UTF-8 (a short string is checked when decoded).
        """
        limit = self._spool_threshold if spool else _MAX_KEY_BYTES
        parts: list[bytes] = []  # the bytes not yet written to the file
        pending = 0  # their total size
        file: BinaryIO | None = None
        written = 0
        decoder = codecs.getincrementaldecoder("utf-8")()
        self._pos += 1
        try:
            while True:
                start = self._pos
                stop = self._stops.find(0, start)
                if stop < 0:
                    piece, self._pos = self._buf[start:], len(self._buf)
                elif stop > start:
                    piece, self._pos = self._buf[start:stop], stop
                elif self._buf[stop] == ord('"'):
                    self._pos += 1
                    if file is None:
                        return b"".join(parts).decode("utf-8")
                    written += _write_utf8(file, decoder, parts)
                    decoder.decode(b"", True)
                    return SpooledString(file, written)
                elif self._buf[stop] == ord("\\"):
                    piece = self._escape()
                else:
                    raise self._error(f"control character 0x{self._buf[stop]:02x} in string")
                parts.append(piece)
                pending += len(piece)
                if pending > limit:
                    if not spool:
                        raise self._error(f"object key longer than {_MAX_KEY_BYTES} bytes")
                    if file is None:
                        file = cast(BinaryIO, tempfile.TemporaryFile(dir=self._spool_dir))  # noqa: SIM115 (owned by a SpooledString)
                        self._files.append(file)
                    written += _write_utf8(file, decoder, parts)
                    pending = 0
                if self._pos == len(self._buf) and not self._fill():
                    raise self._error("unterminated string")
        except UnicodeDecodeError:
            raise self._error("invalid UTF-8 in string") from None

    def _escape(self) -> bytes:
        """Decode the escape sequence at the current position (a backslash) to UTF-8 bytes."""
        if not self._ensure(2):
            raise self._error("unterminated string")
        code = self._buf[self._pos + 1]
        if code in _ESCAPES:
            self._pos += 2
            return _ESCAPES[code]
        if code != ord("u"):
            raise self._error(f"invalid escape: backslash followed by {_describe(code)}")
        char = self._hex4(2)
        if 0xD800 <= char <= 0xDBFF:  # a high surrogate: only valid as the first half of a \uXXXX\uXXXX pair
            low = self._hex4(8) if self._ensure(8) and self._buf.startswith(b"\\u", self._pos + 6) else -1
            if not 0xDC00 <= low <= 0xDFFF:
                raise self._error("lone surrogate in \\u escape")
            char = 0x10000 + ((char - 0xD800) << 10) + (low - 0xDC00)
            self._pos += 6
        elif 0xDC00 <= char <= 0xDFFF:
            raise self._error("lone surrogate in \\u escape")
        self._pos += 6
        return chr(char).encode()

    def _hex4(self, offset: int) -> int:
        """The value of the four hex digits ``offset`` bytes after the current position."""
        if not self._ensure(offset + 4):
            raise self._error("unterminated string")
        digits = self._buf[self._pos + offset : self._pos + offset + 4]
        if not _HEX4.fullmatch(digits):
            raise self._error("invalid \\u escape")
        return int(digits, 16)
