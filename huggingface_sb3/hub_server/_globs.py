"""``.gitignore`` / ``.gitattributes`` pattern matching that takes time linear in its input, never exponential.

Both files come from strangers (a ``preupload`` body, a repo's ``.gitattributes``). Translating their globs into
backtracking regexes, as ``fnmatch`` and dulwich do, lets ``*a*a*a*a*a*ab`` against a 100-character name run
for seconds. Here a path segment is matched against a glob by splitting the glob at its ``*``; every piece
between two stars has a fixed length, so it compiles to a regex without quantifiers, and the pieces are found
greedily left to right (leftmost is always the best choice for a star). A segment costs at most
O(len(glob) x len(name)), done inside ``re``; ``**`` segments are matched over path components by dynamic
programming. The rules are git's (``gitignore(5)``): blank lines and ``#`` comments are skipped, ``!`` re-includes,
a trailing ``/`` matches only folders, a pattern with a ``/`` before its end is anchored at the root, ``**``
matches any number of folders, and nothing under an ignored folder can be re-included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["GlobRules", "TooComplexError", "parse_gitattributes_lfs", "parse_gitignore"]

MAX_PATTERNS = 2000
"""The most patterns one file may hold: real ``.gitignore`` files have tens, the Hub's default attributes 40."""
MAX_PATTERN_CHARS = 1024


class TooComplexError(ValueError):
    """The patterns exceed what the server agrees to evaluate; the message says which limit."""


@dataclass(frozen=True)
class _SegmentGlob:
    """One path segment's glob: the fixed-length pieces between its stars, each compiled without quantifiers."""

    pieces: tuple[re.Pattern[str], ...]
    lengths: tuple[int, ...]
    starred: bool  # whether the glob has at least one ``*`` (then pieces[0] is a prefix, pieces[-1] a suffix)

    def matches(self, name: str) -> bool:
        """Whether the whole of ``name`` (one path segment) matches."""
        if not self.starred:
            return len(name) == self.lengths[0] and self.pieces[0].match(name) is not None
        first, last = self.pieces[0], self.pieces[-1]
        start, end = self.lengths[0], len(name) - self.lengths[-1]
        if end < start or not first.match(name) or not last.match(name, end):
            return False
        for piece in self.pieces[1:-1]:
            found = piece.search(name, start, end)
            if found is None:
                return False
            start = found.end()
        return True


_ANY_FOLDERS = None  # a ``**`` segment: any number of path components


@dataclass(frozen=True)
class _Pattern:
    """One parsed pattern line."""

    segments: tuple[_SegmentGlob | None, ...]
    negated: bool
    folders_only: bool

    def matched_prefixes(self, components: list[str]) -> list[bool]:
        """``result[k]``: whether the pattern matches exactly the first ``k`` components of a path."""
        if len(self.segments) == 2 and self.segments[0] is _ANY_FOLDERS and self.segments[1] is not _ANY_FOLDERS:
            name = self.segments[1]  # the common unanchored pattern: any folder, then one name
            return [False, *(name.matches(component) for component in components)]
        reach = [True] + [False] * len(components)  # reach[j]: the segments so far match components[:j]
        for index, segment in enumerate(self.segments):
            if segment is _ANY_FOLDERS:
                trailing = index == len(self.segments) - 1  # "abc/**" is what is inside abc, not abc itself
                following = [False] * len(reach)
                seen = False
                for j, reached in enumerate(reach):
                    following[j] = seen or (reached and not trailing)
                    seen = seen or reached
                reach = following
            else:
                reach = [False] + [reach[j] and segment.matches(components[j]) for j in range(len(components))]
        return reach


class GlobRules:
    """An ordered list of patterns; the last one that matches a path decides, as in git.

    With ``folders_cover_contents`` (``.gitignore``), a pattern that selects a folder selects everything inside it;
    without (``.gitattributes``), patterns apply to the file path only.
    """

    def __init__(self, patterns: list[_Pattern], *, folders_cover_contents: bool) -> None:
        self._patterns = patterns
        self._folders_cover_contents = folders_cover_contents

    def __len__(self) -> int:
        return len(self._patterns)

    def matches(self, path: str) -> bool:
        """Whether ``path`` (a file path, ``/``-separated) is selected by the patterns (ignored / tracked)."""
        components = path.split("/")
        decisions: list[bool | None] = [None] * (len(components) + 1)
        for pattern in self._patterns:
            for k, matched in enumerate(pattern.matched_prefixes(components)):
                if matched and k > 0 and (k < len(components) or not pattern.folders_only):
                    decisions[k] = not pattern.negated
        inside_selected_folder = self._folders_cover_contents and any(decisions[1:-1])
        return inside_selected_folder or bool(decisions[-1])


def parse_gitignore(text: str) -> GlobRules:
    """The patterns of a ``.gitignore`` file; TooComplexError beyond :data:`MAX_PATTERNS` or an over-long line."""
    return GlobRules([_parse_line(line) for line in _pattern_lines(text)], folders_cover_contents=True)


def parse_gitattributes_lfs(text: str) -> GlobRules:
    """The ``.gitattributes`` patterns that set or unset the ``lfs`` filter, as rules selecting the LFS-tracked files.

    ``filter=lfs`` selects; ``-filter``, ``!filter`` or another ``filter=`` value on a later line deselects.
    Lines that do not mention ``filter`` (blank ones and comments too) are skipped.
    """
    patterns = []
    for line in _pattern_lines(text):
        pattern, *attributes = line.split()
        filters = [item for item in attributes if item.lstrip("-!").split("=")[0] == "filter"]
        if filters:
            patterns.append(_parse_line(pattern, negated=filters[-1] != "filter=lfs"))
    return GlobRules(patterns, folders_cover_contents=False)


def _pattern_lines(text: str) -> list[str]:
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if len(lines) > MAX_PATTERNS:
        raise TooComplexError(f"{len(lines)} patterns; the local Hub evaluates at most {MAX_PATTERNS}.")
    for line in lines:
        if len(line) > MAX_PATTERN_CHARS:
            raise TooComplexError(f"a pattern of {len(line)} characters; at most {MAX_PATTERN_CHARS} are allowed.")
    return lines


def _parse_line(line: str, *, negated: bool | None = None) -> _Pattern:
    """A pattern from a ``.gitignore`` line (its ``!`` prefix negates) or, with ``negated`` given, a
    ``.gitattributes`` pattern."""
    line = _strip_trailing_spaces(line)
    if negated is None:
        negated = line.startswith("!")
        if negated:
            line = line[1:]
    folders_only = line.endswith("/")
    line = line.rstrip("/")
    anchored = "/" in line
    parts = line.lstrip("/").split("/")
    if not anchored:
        parts = ["**", *parts]
    segments = tuple(_ANY_FOLDERS if part == "**" else _compile_segment(part) for part in parts)
    return _Pattern(segments, negated, folders_only)


def _strip_trailing_spaces(line: str) -> str:
    stripped = line.rstrip(" ")
    if stripped.endswith("\\") and len(stripped) < len(line):
        return stripped + " "
    return stripped


def _compile_segment(glob: str) -> _SegmentGlob:
    pieces: list[list[str]] = [[]]
    index = 0
    while index < len(glob):
        char = glob[index]
        if char == "*":
            if pieces[-1] or len(pieces) == 1:
                pieces.append([])
            index += 1
        elif char == "?":
            pieces[-1].append(".")
            index += 1
        elif char == "[":
            atom, index = _character_class(glob, index)
            pieces[-1].append(atom)
        else:
            if char == "\\" and index + 1 < len(glob):
                index += 1
            pieces[-1].append(re.escape(glob[index]))
            index += 1
    compiled = tuple(re.compile("".join(atoms), re.DOTALL) for atoms in pieces)
    return _SegmentGlob(compiled, tuple(len(atoms) for atoms in pieces), starred=len(pieces) > 1)


def _character_class(glob: str, start: int) -> tuple[str, int]:
    """The regex atom for a ``[...]`` class starting at ``start`` and the index after it.

    As in git's wildmatch, a pattern with an unclosed ``[`` matches nothing.
    """
    index = start + 1
    negated = index < len(glob) and glob[index] in "!^"
    index += negated
    members = []
    first = True
    while index < len(glob) and (glob[index] != "]" or first):
        char = glob[index]
        if char == "\\" and index + 1 < len(glob):
            index += 1
            char = glob[index]
        if index + 2 < len(glob) and glob[index + 1] == "-" and glob[index + 2] != "]":
            low, high = char, glob[index + 2]
            if low <= high:
                members.append(f"{re.escape(low)}-{re.escape(high)}")
            index += 3
        else:
            members.append(re.escape(char))
            index += 1
        first = False
    if index >= len(glob):
        return "(?!)", len(glob)
    if not members:
        return ("." if negated else "(?!)"), index + 1
    return f"[{'^' if negated else ''}{''.join(members)}]", index + 1
