"""The glob dialect of lesson `paths` (ladder/globs.py)."""

from __future__ import annotations

import pytest

from ladder.globs import matches


@pytest.mark.parametrize(
    ("path", "patterns", "hit"),
    [
        ("train.py", ["*.py"], True),
        ("src/deep/train.py", ["*.py"], True),  # no `/`: the name at any depth
        ("src/train.py", ["src/*.py"], True),
        ("src/deep/train.py", ["src/*.py"], False),  # `*` stays within a segment
        ("src/deep/train.py", ["src/**/*.py"], True),
        ("src/train.py", ["src/**/*.py"], True),  # `**/` is zero or more directories
        ("data/x/y.bin", ["data"], True),  # a directory covers what is below it
        ("a.py", ["*.py", "!a.py"], False),
        ("b.py", ["*.py", "!a.py"], True),
        # a newline in a name, a directory's included: still matched (fail closed)
        ("a\nb.py", ["*.py"], True),
        ("dir\nx/evil.py", ["**/*.py"], True),
        ("dir\nx/evil.py", ["*.py"], True),
        ("dir\nx/evil.py", ["**"], True),
        ("dir\nx/evil.txt", ["**/*.py"], False),
    ],
)
def test_matches(path: str, patterns: list[str], hit: bool) -> None:
    assert matches(path, patterns) is hit
