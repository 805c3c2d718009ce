"""The built-in templates' `ast` checks agree with their libcst checks (the reference).

The engine parses a file with CPython's `ast` when every rule there has an `ast` check
(about 7x faster than libcst, issue 13); these tests run the same code through both
paths and compare the findings: every template's own block/allow cases, hand-picked
shapes each path reads differently (async defs, decorators, `Protocol[T]`, aliases,
non-ASCII columns, one-line suites), and programs drawn at random from such pieces.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ladder.findings import Finding
from ladder.lesson import Lesson, Rule
from ladder.rules import libcst_engine
from ladder.rules.base import CheckRequest
from ladder.rules.registry import TEMPLATES
from ladder.rules.runner import check

RULES: tuple[tuple[str, Mapping[str, Any]], ...] = (
    ("forbid-call", {"name": "eval"}),
    ("forbid-call", {"name": "os.system"}),
    ("forbid-call", {"name": "torch.load", "message": "use weights_only"}),
    ("forbid-import", {"module": "pickle"}),
    ("forbid-import", {"module": "os.path"}),
    ("require-call", {"function": "generate", "calls": "validate_input"}),
    ("require-call", {"function": "step", "calls": "checks.verify"}),
    ("bound", {"expr": "LR <= 0.05"}),
    ("bound", {"name": "DEPTH", "op": ">", "value": 2}),
)


def lessons() -> list[Lesson]:
    return [Lesson(f"l{n}", "title", "why", rule=Rule(t, dict(a))) for n, (t, a) in enumerate(RULES)]


def findings(code: str, use_ast: bool, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    monkeypatch.setattr(libcst_engine, "USE_AST", use_ast)
    found: list[Finding] = check(CheckRequest(Path("."), ["m.py"], contents={"m.py": code}), lessons())
    return [(f.rule, f.lesson, f.line, f.column, f.message) for f in found]


def same(code: str, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    fast = findings(code, True, monkeypatch)
    assert fast == findings(code, False, monkeypatch), code
    return fast


def _template_cases() -> list[str]:
    out = []
    for template, args in RULES:
        t = TEMPLATES[template]
        block, allow = t.generated_cases(t.validate(args, "test"))
        out += [c.code for c in (*block, *allow)]
    return out


@pytest.mark.parametrize("code", _template_cases())
def test_every_generated_case_agrees(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    same(code, monkeypatch)


SHAPES = {
    "alias call": ("import os as o\no.system('x')\n", 1),
    "from-import alias": ("from os import system as run\nrun('x')\n", 1),
    "nested attribute": ("import torch\nmodel = torch.load(p)\n", 1),
    "star import is not resolved": ("from os import *\nsystem('x')\n", 0),
    "relative import": ("from . import pickle\nfrom .pickle import x\n", 0),
    "submodule from its parent": ("from os import path\nimport os.path as p\n", 2),
    "async def without the call": ("async def generate(x):\n    return x\n", 1),
    "decorated def": ("@app.route('/')\n@cache\ndef generate(x):\n    return x\n", 1),
    "overload through an alias": ("import typing as t\n@t.overload\ndef generate(x: int) -> int: ...\n", 0),
    "Protocol[T] member": ("from typing import Protocol\nclass S(Protocol[T]):\n    def generate(self): return 1\n", 0),
    "keyword base is not a base": ("class S(metaclass=Protocol):\n    def generate(self):\n        return 1\n", 1),
    "docstring then ellipsis": ('def generate(x):\n    """Doc."""\n    ...\n', 0),
    "pass is code": ("def generate(x):\n    pass\n", 1),
    "one-line suite": ("def generate(x): return x\n", 1),
    "nested def makes the call": ("def generate(x):\n    def inner():\n        validate_input(x)\n", 0),
    "method via attribute": ("def step(self):\n    self.checks.verify()\n", 0),
    "non-ASCII before the call": ("s = 'é€'; eval(s)\n", 1),
    "non-ASCII before the name": ("x = 'ü'; y = 1\ndef    generate(a): return a\n", 1),
    "several targets": ("A = LR = 0.5\n", 1),
    "annotated": ("LR: float = 1e-1\n", 1),
    "semicolons": ("X = 1; LR = 0.9; DEPTH = 1\n", 2),
    "inside if": ("if True:\n    LR = 1.0\n", 0),
    "not a literal": ("LR = BASE * 2\nDEPTH = -3\n", 1),
    "crlf": ("import pickle\r\neval(x)\r\n", 2),
    "fullwidth identifier": ("\uff45val(x)\n", 1),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_shapes_each_path_reads_differently_agree(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    code, expected = SHAPES[name]
    assert len(same(code, monkeypatch)) == expected


def test_a_parenthesized_value_is_the_same_number(monkeypatch: pytest.MonkeyPatch) -> None:
    # libcst's code for the value keeps the parentheses, ast's does not: same finding.
    fast, slow = (findings("LR = (0.5)\n", use, monkeypatch) for use in (True, False))
    assert [f[:4] for f in fast] == [f[:4] for f in slow] and len(fast) == 1
    assert "LR = 0.5 violates" in fast[0][4] and "LR = (0.5) violates" in slow[0][4]


def test_syntax_the_running_python_rejects_goes_to_libcst(monkeypatch: pytest.MonkeyPatch) -> None:
    found = findings("x = eval\ndef generate(:\n", True, monkeypatch)
    assert {f[0] for f in found} == {"parse-error"} and all(f[2] == 2 for f in found)


PIECES = st.sampled_from([
    "import os", "import os as o", "from os import system", "from os import system as run",
    "import pickle", "from pickle import loads", "import typing", "from typing import overload",
    "eval(x)", "o.system('a')", "run('b')", "system('c')", "helper.eval(x)", "torch.load(p)",
    "LR = 0.01", "LR = 0.5", "LR: float = 2", "DEPTH = 1", "DEPTH = 8", "A = LR = 3",
    "def generate(x):\n    return x", "def generate(x):\n    validate_input(x)",
    "async def generate(x):\n    await validate_input(x)", "@overload\ndef generate(x): ...",
    "class S:\n    def generate(self):\n        self.validate_input()",
    "class P(typing.Protocol):\n    def generate(self):\n        return 1",
    "def step():\n    checks.verify()", "def step():\n    verify()",
    "if x:\n    eval(y)", "with f() as g:\n    import pickle", "s = 'é'; eval(s)",
])


@settings(max_examples=150, deadline=None)
@given(st.lists(PIECES, min_size=1, max_size=8))
def test_random_programs_agree(pieces: list[str]) -> None:
    code = "\n".join(pieces) + "\n"
    with pytest.MonkeyPatch.context() as monkeypatch:
        same(code, monkeypatch)
