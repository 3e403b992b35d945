"""Tests of the streaming NDJSON parser behind the local Hub's commit endpoint."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tempfile
import tracemalloc
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huggingface_sb3.hub_server import _ndjson
from huggingface_sb3.hub_server._ndjson import NDJSONError, SpooledString, iter_ndjson

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=20,
)


def parse(data: bytes, **kwargs: Any) -> list[Any]:
    return list(iter_ndjson(io.BytesIO(data), **kwargs))


def materialize(value: Any, spool_threshold: int) -> Any:
    """Replace (and close) every SpooledString by its text, checking that exactly the long strings were spooled."""
    if isinstance(value, SpooledString):
        with value:
            text = value.read_text()
        assert value.size == len(text.encode()) > spool_threshold
        return text
    if isinstance(value, str):
        assert len(value.encode()) <= spool_threshold
        return value
    if isinstance(value, list):
        return [materialize(item, spool_threshold) for item in value]
    if isinstance(value, dict):
        assert all(type(key) is str for key in value)
        return {key: materialize(item, spool_threshold) for key, item in value.items()}
    return value


def has_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any(0xD800 <= ord(char) <= 0xDFFF for char in value)
    if isinstance(value, list):
        return any(has_surrogate(item) for item in value)
    if isinstance(value, dict):
        return any(has_surrogate(key) or has_surrogate(item) for key, item in value.items())
    return False


# --- agreement with json ---------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(json_values, min_size=1, max_size=4),
    ensure_ascii=st.booleans(),
    compact=st.booleans(),
    newline=st.sampled_from(["\n", "\r\n", " \t\n", "\n\n \n"]),
    read_size=st.integers(1, 64),
    spool_threshold=st.integers(0, 32),
)
def test_agrees_with_json_loads(
    values: list[Any], ensure_ascii: bool, compact: bool, newline: str, read_size: int, spool_threshold: int
) -> None:
    separators = (",", ":") if compact else None
    lines = [json.dumps(value, ensure_ascii=ensure_ascii, separators=separators) for value in values]
    data = newline.join(lines).encode()
    parsed = parse(data, read_size=read_size, spool_threshold=spool_threshold, max_depth=1000)
    assert [materialize(value, spool_threshold) for value in parsed] == [json.loads(line) for line in lines]


_TOKENS = ['', '{', '}', '[', ']', ',', ':', '"', '\\', '\\u', 'd83d', 'de00', 'D800', '00e9', 'n', '/', 'x', '0', '1',
           '9', '-', '+', '.', 'e', 'E', 'true', 'false', 'null', 'NaN', 'Infinity', ' ', '\t', '\r', 'é', '😀',
           '\x01', '\x7f', '"a"', '"k":']  # fmt: skip


def _mutate(value: Any, ensure_ascii: bool, edits: list[tuple[int, str, int]]) -> str:
    """json.dumps(value) with each edit replacing ``deleted`` characters at ``position`` by ``token``."""
    line = json.dumps(value, ensure_ascii=ensure_ascii)
    for position, token, deleted in edits:
        position %= len(line) + 1
        line = line[:position] + token + line[position + deleted :]
    return line


# Single lines, valid or not: token soup, and JSON texts with a few random edits.
_edits = st.lists(st.tuples(st.integers(0), st.sampled_from(_TOKENS), st.integers(0, 2)), max_size=3)
near_json_lines = st.lists(st.sampled_from(_TOKENS), max_size=24).map("".join) | st.builds(
    _mutate, json_values, st.booleans(), _edits
)


def _reject_constant(name: str) -> None:
    raise ValueError(name)


@settings(max_examples=1000, deadline=None)
@given(line=near_json_lines, read_size=st.integers(1, 16), spool_threshold=st.integers(0, 8))
def test_single_lines_accepted_and_rejected_like_json_loads(line: str, read_size: int, spool_threshold: int) -> None:
    """json.loads is the reference, except that it accepts NaN/Infinity and lone surrogates, which we reject."""
    try:
        expected = json.loads(line, parse_constant=_reject_constant)
        valid = not has_surrogate(expected)
    except ValueError:
        valid = False
    kwargs = {"read_size": read_size, "spool_threshold": spool_threshold}
    if not line.strip(" \t\r"):
        assert parse(line.encode(), **kwargs) == []
    elif valid:
        assert [materialize(v, spool_threshold) for v in parse(line.encode(), **kwargs)] == [expected]
    else:
        with pytest.raises(NDJSONError) as info:
            parse(line.encode(), **kwargs)
        assert info.value.line == 1


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=64), read_size=st.integers(1, 8), spool_threshold=st.integers(0, 4))
def test_arbitrary_bytes_raise_only_ndjson_error(data: bytes, read_size: int, spool_threshold: int) -> None:
    values = []
    try:
        for value in iter_ndjson(io.BytesIO(data), read_size=read_size, spool_threshold=spool_threshold, max_depth=4):
            values.append(value)
    except NDJSONError as exc:
        assert 1 <= exc.line <= data.count(b"\n") + 1
    finally:
        materialize(values, spool_threshold)


# --- line structure ----------------------------------------------------------------------------------------------


def test_blank_lines_and_crlf() -> None:
    data = b'\r\n  \t\n{"a": 1}\r\n\r\n[2]  \t\r\n\n"x"\r\n \n3'
    assert parse(data) == [{"a": 1}, [2], "x", 3]
    assert parse(b"") == parse(b"\n\n") == parse(b" \r\n\t") == []


def test_newlines_inside_a_value_are_whitespace_and_counted() -> None:
    assert parse(b'{"a":\n 1,\r\n"b" : [\n]}\n2') == [{"a": 1, "b": []}, 2]
    with pytest.raises(NDJSONError) as info:
        parse(b'{"a":\n1}\n\n]')
    assert info.value.line == 4


def test_commit_payload() -> None:
    data = (
        b'{"key": "header", "value": {"summary": "add files", "description": "desc", "parentCommit": "abc"}}\n'
        b'{"key": "file", "value": {"content": "aGVsbG8=", "path": "model.zip", "encoding": "base64"}}\n'
        b'{"key": "lfsFile", "value": {"path": "x.bin", "algo": "sha256", "oid": "00ff", "size": 200}}\n'
        b'{"key": "deletedFile", "value": {"path": "config.json"}}\n'
    )
    assert parse(data) == [json.loads(line) for line in data.splitlines()]


# --- values ------------------------------------------------------------------------------------------------------


def test_number_types() -> None:
    [values] = parse(b"[0, -0, 7, 12345678901234567890, 1.0, 1e2, -1.5E-3, 2e+1, 1e400]")
    assert [type(v) for v in values] == [int, int, int, int, float, float, float, float, float]
    assert values == [0, 0, 7, 12345678901234567890, 1.0, 100.0, -0.0015, 20.0, float("inf")]


def test_escapes_across_every_buffer_boundary() -> None:
    line = rb'["a\"b\\c\/d\b\f\n\r\t", "\u00e9\u20AC\ud83d\ude00", "\u0000"]'
    for read_size in range(1, len(line) + 2):
        assert parse(line, read_size=read_size) == [json.loads(line)]


def test_duplicate_keys_last_wins() -> None:
    assert parse(b'{"a": 1, "b": 2, "a": 3}') == [{"a": 3, "b": 2}]


def test_spool_threshold_is_in_utf8_bytes_and_keys_are_never_spooled() -> None:
    line = '{"a": "abc", "b": "aé", "c": "abcd", "d": "éé", "e": "", "long key": 1}'
    [value] = parse(line.encode(), spool_threshold=3)
    assert value["a"] == "abc" and value["b"] == "aé" and value["e"] == "" and value["long key"] == 1
    assert isinstance(value["c"], SpooledString) and isinstance(value["d"], SpooledString)
    with value["c"] as c, value["d"] as d:
        assert (c.size, c.read_text(), d.size, d.read_text()) == (4, "abcd", 4, "éé")
    [keys] = parse(b'{"abc": 1, "": 2}', spool_threshold=0)
    assert keys == {"abc": 1, "": 2}


def test_spooled_string_api(tmp_path: Any) -> None:
    [value] = parse('"héllo wörld"'.encode(), spool_threshold=4, spool_dir=tmp_path)
    assert isinstance(value, SpooledString) and value.size == len("héllo wörld".encode())
    assert value.open().read(2) == b"h\xc3"
    assert value.open().read() == "héllo wörld".encode()  # rewound on every open()
    assert value.read_text() == "héllo wörld"
    with value as same:
        assert same is value
    value.close()  # idempotent
    assert "closed" in repr(value)


def test_deep_nesting_is_bounded_and_never_recursion_error() -> None:
    assert parse(b"[" * 32 + b"]" * 32) != []
    depth = 100_000
    [value] = parse(b"[" * depth + b"]" * depth, max_depth=depth)
    for _ in range(depth - 1):
        [value] = value
    assert value == []
    with pytest.raises(NDJSONError, match="nesting deeper than 32"):
        parse(b'{"a": ' * 33 + b"1" + b"}" * 33)
    with pytest.raises(NDJSONError, match="end of input"):
        parse(b"[" * depth, max_depth=depth)


def test_invalid_arguments() -> None:
    for kwargs in ({"read_size": 0}, {"spool_threshold": -1}, {"max_depth": 0}):
        with pytest.raises(ValueError):
            iter_ndjson(io.BytesIO(b"1"), **kwargs)


def test_large_base64_string_is_spooled_with_bounded_memory() -> None:
    content = base64.b64encode(os.urandom(15 * 1024 * 1024))  # 20 MiB of base64
    digest, size = hashlib.sha256(content).hexdigest(), len(content)
    with tempfile.TemporaryFile() as body:
        body.write(b'{"key": "header", "value": {"summary": "add model", "description": ""}}\n')
        body.write(b'{"key": "file", "value": {"content": "' + content)
        body.write(b'", "path": "model.zip", "encoding": "base64"}}\n')
        body.seek(0)
        del content
        tracemalloc.start()
        try:
            header, file_line = iter_ndjson(body)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert header == {"key": "header", "value": {"summary": "add model", "description": ""}}
    assert file_line["value"]["path"] == "model.zip" and file_line["value"]["encoding"] == "base64"
    with file_line["value"]["content"] as spooled:
        assert isinstance(spooled, SpooledString) and spooled.size == size
        sha = hashlib.sha256()
        reader = spooled.open()
        while chunk := reader.read(1 << 20):
            sha.update(chunk)
    assert sha.hexdigest() == digest
    assert peak < 8 * 1024 * 1024


def test_failed_line_closes_its_spooled_strings(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    created: list[Any] = []
    real_temporary_file = tempfile.TemporaryFile

    def temporary_file(**kwargs: Any) -> Any:
        assert kwargs == {"dir": tmp_path}
        created.append(real_temporary_file(**kwargs))
        return created[-1]

    monkeypatch.setattr(_ndjson.tempfile, "TemporaryFile", temporary_file)
    long = "x" * 100
    lines = [
        f'{{"a": "{long}", "b": ["{long}"], "c": tru}}',  # two values spooled, then a syntax error
        f'{{"a": "{long}", "b": "{long}\\udc00"}}',  # the second fails while spooling
        f'"{long}\\u00e9',  # truncated while spooling
    ]
    for line in lines:
        with pytest.raises(NDJSONError):
            parse(line.encode(), spool_threshold=10, spool_dir=tmp_path, read_size=7)
    assert len(created) == 5 and all(file.closed for file in created)

    body = io.BytesIO(f'"{long}"\n"{long}\xff"'.encode("latin-1"))
    values = iter_ndjson(body, spool_threshold=10, spool_dir=tmp_path)
    first = next(values)
    with pytest.raises(NDJSONError, match="line 2: invalid UTF-8"):
        next(values)
    assert first.read_text() == long  # a value already yielded is the caller's, not closed by a later failure
    first.close()
    assert all(file.closed for file in created)


@pytest.mark.parametrize("tail", [b"\xc3", b"\xff", b"\xc3\\n", b"\xed\xa0\x80"])
def test_invalid_utf8_in_spooled_string(tail: bytes) -> None:
    with pytest.raises(NDJSONError, match="line 1: invalid UTF-8"):
        parse(b'"' + b"y" * 1000 + tail + b'"', spool_threshold=10, read_size=64)


def test_object_keys_are_limited() -> None:
    assert parse(b'{"' + b"k" * (64 * 1024) + b'": 1}', spool_threshold=0) == [{"k" * 64 * 1024: 1}]
    with pytest.raises(NDJSONError, match="line 1: object key longer than 65536 bytes"):
        parse(b'{"' + b"k" * (64 * 1024 + 1) + b'": 1}')


# --- malformed input -------------------------------------------------------------------------------------------

MALFORMED = {
    # truncated
    "truncated object": b'{"a": 1',
    "truncated after key": b'{"a"',
    "truncated after colon": b'{"a":',
    "truncated array": b"[1, 2",
    "truncated string": b'"abc',
    "truncated escape": b'"abc\\',
    "truncated unicode escape": b'"\\u12',
    "truncated literal": b"tru",
    # trailing garbage
    "two objects": b'{"a":1}{"b":2}',
    "garbage after value": b'{"a":1} x',
    "two numbers": b"1 2",
    "two strings": b'"a""b"',
    "comma after value": b"[1],",
    "form feed after value": b"1\f",
    # bad escapes
    "unknown escape": b'"\\x"',
    "escaped quote char": b'"\\\'"',
    "bad hex": b'"\\u12G4"',
    "short hex": b'"\\u12"',
    "escaped raw byte": b'"\\\xc3\xa9"',
    # surrogates
    "lone high surrogate": b'"\\ud800"',
    "lone low surrogate": b'"\\udc00"',
    "high surrogate then letter": b'"\\ud800x"',
    "high surrogate then bmp escape": b'"\\ud800\\u0041"',
    "two high surrogates": b'"\\ud800\\ud800"',
    # control characters
    "raw tab in string": b'"a\tb"',
    "raw newline in string": b'"a\nb"',
    "raw nul in string": b'"\x00"',
    "raw unit separator in string": b'{"k\x1f": 1}',
    # invalid UTF-8
    "invalid byte": b'"\xff"',
    "truncated sequence": b'"\xc3"',
    "truncated sequence before escape": b'"\xc3\\n"',
    "encoded surrogate": b'"\xed\xa0\x80"',
    "overlong encoding": b'"\xc0\xaf"',
    "non-ASCII outside strings": b"\xc3\xa9",
    "byte order mark": b"\xef\xbb\xbf{}",
    # structure
    "too deep": b"[" * 33 + b"]" * 33,
    "bare close bracket": b"]",
    "bare close brace": b"}",
    "bare comma": b",",
    "bare colon": b":",
    "trailing comma in array": b"[1,]",
    "trailing comma in object": b'{"a":1,}',
    "missing comma": b"[1 2]",
    "missing colon": b'{"a" 1}',
    "non-string key": b"{1: 2}",
    "single quotes": b"{'a': 1}",
    "mismatched brackets": b"[1}",
    # numbers and literals
    "leading zero": b"01",
    "negative leading zero": b"-01",
    "double zero": b"00",
    "bare minus": b"-",
    "trailing dot": b"1.",
    "leading dot": b".5",
    "leading plus": b"+1",
    "empty exponent": b"1e",
    "exponent sign only": b"1e+",
    "hex number": b"0x10",
    "NaN": b"NaN",
    "Infinity": b"Infinity",
    "minus Infinity": b"-Infinity",
    "capitalised literal": b"True",
    "partial literal": b"nul",
    "longer literal": b"nullx",
}


@pytest.mark.parametrize("read_size", [1, 3, 1 << 20])
@pytest.mark.parametrize("bad", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_input_names_the_line(bad: bytes, read_size: int) -> None:
    values = iter_ndjson(io.BytesIO(b'{"ok": 1}\n\r\n' + bad), read_size=read_size)
    assert next(values) == {"ok": 1}
    with pytest.raises(NDJSONError) as info:
        next(values)
    assert info.value.line == 3
    assert str(info.value).startswith("line 3: ")
    assert isinstance(info.value, ValueError)


def test_a_number_of_more_than_256_characters_is_refused() -> None:
    assert parse(b"[" + b"9" * 256 + b"]") == [[int("9" * 256)]]
    with pytest.raises(NDJSONError, match=r"line 1: number longer than 256 characters"):
        parse(b"[" + b"9" * 257 + b"]")


def test_a_huge_digit_run_is_refused_in_linear_time() -> None:
    """One long digit run used to be re-buffered on every chunk: 64 MiB took 8 s, 128 MiB 30 s."""
    body = io.BytesIO(b"1" * (64 * 1024 * 1024))
    with pytest.raises(NDJSONError, match="number longer"):
        next(iter_ndjson(body, read_size=4096))
    assert body.tell() <= 2 * 4096, "the parser gave up only after reading far more than one number can be"
