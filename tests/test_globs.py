"""The local Hub's ``.gitignore``/``.gitattributes`` matcher agrees with git, in time linear in its input."""

from __future__ import annotations

import random
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from huggingface_sb3.hub_server._globs import TooComplexError, parse_gitattributes_lfs, parse_gitignore

IGNORE_PATTERNS = [
    "*.py", "/build", "build/", "a/**/b", "**/foo", "docs/*.md", "!keep.py", "*.[oa]", "[!x]y", "logs/**",
    "\\#hash", "a?c", "**/x/**", "dir/", "abc/**", "*~", "[a-c]*.txt", "!dir/keep", "sub/*/z", "weird[",
    "*a*a*b", "[]]x", "[a-]z", "trail\\ ", "!*.txt", "a\\*b",
]  # fmt: skip
PATHS = [
    "x.py", "keep.py", "src/keep.py", "build", "build/out", "src/build/o", "a/b", "a/x/y/b", "a/b/c", "foo",
    "q/foo", "q/foo/bar", "docs/r.md", "docs/s/r.md", "lib.o", "lib.a", "zy", "xy", "logs/a", "logs", "#hash",
    "abc", "aXc", "x/q", "p/x/q", "dir/keep", "dir/other", "abc/d", "f~", "b.txt", "d.txt", "sub/1/z",
    "sub/1/2/z", "weird[", "aaab", "aab", "ab", "]x", "-z", "az", "trail ", "a*b", "axb", "café/x.py",
]  # fmt: skip
ATTRIBUTE_LINES = [
    "*.bin filter=lfs", "*.py filter=lfs diff=lfs", "dir/** filter=lfs", "keep.bin -filter", "/top.bin filter=lfs",
    "sub/ filter=lfs", "*.txt filter=other", "**/deep/*.md filter=lfs", "", "# comment", "*.bin !filter",
]  # fmt: skip
ATTRIBUTE_PATHS = [
    "a.bin", "x/a.bin", "keep.bin", "x/keep.bin", "top.bin", "x/top.bin", "dir/a", "dir/b/c", "sub/a", "a.py",
    "t.txt", "deep/r.md", "x/deep/r.md",
]  # fmt: skip

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git command")


@pytest.fixture
def work_tree(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return tmp_path


def _git(work_tree: Path, *args: str, stdin: str) -> str:
    return subprocess.run(
        ["git", "-c", "core.quotepath=off", *args], cwd=work_tree, input=stdin, capture_output=True, text=True
    ).stdout


@needs_git
def test_ignore_rules_match_git_check_ignore(work_tree: Path) -> None:
    rng = random.Random(7)
    for _ in range(60):
        patterns = rng.sample(IGNORE_PATTERNS, rng.randint(1, 7))
        (work_tree / ".gitignore").write_text("\n".join(patterns) + "\n")
        ignored_by_git = set(
            _git(work_tree, "check-ignore", "--no-index", "--stdin", stdin="\n".join(PATHS)).split("\n")
        )
        rules = parse_gitignore("\n".join(patterns))
        mismatches = [path for path in PATHS if rules.matches(path) != (path in ignored_by_git)]
        assert not mismatches, f"{patterns}: git and the Hub disagree on {mismatches}"


@needs_git
def test_lfs_attributes_match_git_check_attr(work_tree: Path) -> None:
    rng = random.Random(11)
    for _ in range(40):
        lines = rng.sample(ATTRIBUTE_LINES, rng.randint(1, 6))
        (work_tree / ".gitattributes").write_text("\n".join(lines) + "\n")
        answer = _git(work_tree, "check-attr", "--stdin", "filter", stdin="\n".join(ATTRIBUTE_PATHS))
        tracked_by_git = {line.split(": filter:")[0] for line in answer.splitlines() if line.endswith(": lfs")}
        rules = parse_gitattributes_lfs("\n".join(lines))
        mismatches = [path for path in ATTRIBUTE_PATHS if rules.matches(path) != (path in tracked_by_git)]
        assert not mismatches, f"{lines}: git and the Hub disagree on {mismatches}"


@pytest.mark.parametrize(
    ("pattern", "name"),
    [
        ("*a" * 12 + "b", "a" * 100),
        ("*a" * 300 + "b", "a" * 1000),
        ("**/" * 200 + "b", "/".join(["a"] * 400)),
        ("[a-z]*" * 100 + "!", "abc" * 300),
    ],
)
def test_patterns_that_make_regexes_backtrack_are_matched_in_linear_time(pattern: str, name: str) -> None:
    rules = parse_gitignore(pattern)
    started = time.process_time()
    assert not rules.matches(name)
    assert time.process_time() - started < 0.5


def test_too_many_or_too_long_patterns_are_refused() -> None:
    with pytest.raises(TooComplexError, match="at most 2000"):
        parse_gitignore("\n".join(f"p{i}" for i in range(2001)))
    with pytest.raises(TooComplexError, match="at most 1024"):
        parse_gitignore("x" * 1025)
