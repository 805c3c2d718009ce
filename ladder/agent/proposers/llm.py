"""The `llm` proposer: an OpenAI-compatible chat endpoint answering with SEARCH/REPLACE edits.

Plain urllib, no SDK: `POST {base_url}/chat/completions` is the whole protocol, and it
is what OpenAI, vLLM, llama.cpp, Ollama and most gateways speak. The answer's blocks
(aider's format) are applied to the parent's files; a block whose SEARCH text is not in
the file refuses the whole proposal (reason in `last_error`), since half an idea is
not the idea the model described.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from http.client import HTTPException
from pathlib import Path
from typing import Any

from ladder.agent.config import ProposerSpec
from ladder.agent.proposers.common import (
    changed_symbols,
    check_options,
    editable_files,
    read_files,
    read_text,
    safe_path,
)
from ladder.agent.proposers.prompt import build_prompt
from ladder.agent.records import Proposal, ProposalContext
from ladder.errors import LadderError

OPTIONS = (
    "base_url",
    "model",
    "api_key_env",
    "temperature",
    "max_tokens",
    "timeout",
    "target",
)
SYSTEM = (
    "You are a careful research engineer improving a program one change at a time. "
    "Follow the rules you are given and answer exactly in the requested format."
)
_WHERE = "[tool.ladder.agent] proposer"
_SEARCH = re.compile(r"^\s*<{5,9}\s*SEARCH\b")
_DIVIDER = re.compile(r"^\s*={5,9}\s*$")
_REPLACE = re.compile(r"^\s*>{5,9}\s*REPLACE\b")
_FENCE = re.compile(r"^\s*(```|~~~)")
_FATAL_HTTP = (401, 403, 404)  # a wrong key, URL or model: every iteration would fail alike


class Refused(Exception):
    """The answer cannot become a proposal; the message says why."""


@dataclass(frozen=True)
class Block:
    path: str
    search: str
    replace: str


class LLMProposer:
    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key_env: str = "",
        temperature: float = 0.7,
        max_tokens: int = 4096,
        timeout: float = 300.0,
        target: str = "the target metric",
        retry_delay: float = 2.0,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key_env = api_key_env
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.target = target
        self.retry_delay = retry_delay
        self.last_error = ""
        self.last_answer = ""  # the model's raw answer, for the journal
        self._api_key()  # a missing key fails now, not at the first iteration

    @classmethod
    def from_spec(cls, spec: ProposerSpec) -> LLMProposer:
        opts = spec.options
        check_options("llm", opts, OPTIONS)
        return cls(
            _text(opts, "base_url", required=True),
            _text(opts, "model", required=True),
            api_key_env=_text(opts, "api_key_env"),
            temperature=_number(opts, "temperature", 0.7),
            max_tokens=int(_number(opts, "max_tokens", 4096)),
            timeout=_number(opts, "timeout", 300.0),
            target=_text(opts, "target") or "the target metric",
        )

    @property
    def name(self) -> str:
        return "llm"

    def propose(self, ctx: ProposalContext) -> Proposal | None:
        self.last_error = self.last_answer = ""
        files = read_files(ctx.root, editable_files(ctx.root, ctx.editable))
        prompt = build_prompt(ctx, files, self.target)
        answer = self._complete(prompt)
        if answer is None:
            return None
        self.last_answer = answer
        try:
            description, blocks = parse_answer(answer)
            changed = apply_blocks(ctx.root, blocks)
        except Refused as exc:
            self.last_error = str(exc)
            return None
        symbols: dict[str, None] = {}
        for path, text in changed.items():
            for name in changed_symbols(read_text(ctx.root, path) or "", text):
                symbols[name] = None
        features = {"operator": "llm", "files": sorted(changed), "symbols": list(symbols)}
        return Proposal(description or "llm proposal", changed, features, proposer="llm")

    # --- HTTP ----------------------------------------------------------------------

    def _complete(self, prompt: str) -> str | None:
        payload = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": prompt},
            ],
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        body = self._post(payload)
        if body is None:
            return None
        try:
            content = body["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            content = None
        if not isinstance(content, str) or not content.strip():
            self.last_error = f"the endpoint's answer holds no message: {str(body)[:200]}"
            return None
        return content

    def _post(self, payload: Mapping[str, Any]) -> Any:
        """The response's JSON, after one retry on 5xx, 429 or a network failure."""
        headers = {"Content-Type": "application/json"}
        key = self._api_key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        data = json.dumps(payload).encode("utf-8")
        for attempt in range(2):
            request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read().decode("utf-8"))
            except urllib.error.HTTPError as exc:
                detail = _read_error(exc)
                if exc.code in _FATAL_HTTP:
                    raise LadderError(
                        f"the LLM endpoint answered HTTP {exc.code}: {detail}",
                        where=self.url,
                        todo="check base_url, model and the API key",
                    ) from exc
                self.last_error = f"HTTP {exc.code} from {self.url}: {detail}"
                if exc.code < 500 and exc.code != 429:
                    return None
            except (urllib.error.URLError, TimeoutError, ConnectionError, HTTPException) as exc:
                reason = getattr(exc, "reason", exc)
                self.last_error = f"no answer from {self.url}: {reason}"
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                self.last_error = f"the endpoint's answer is not JSON: {exc}"
                return None
            if attempt == 0:
                time.sleep(self.retry_delay)
        return None

    def _api_key(self) -> str:
        if not self.api_key_env:
            return ""
        key = os.environ.get(self.api_key_env)
        if not key:
            raise LadderError(
                f"environment variable {self.api_key_env} is not set",
                where=_WHERE,
                todo=f"export {self.api_key_env}=..., or change api_key_env",
            )
        return key


# --- answers -------------------------------------------------------------------------


def parse_answer(answer: str) -> tuple[str, list[Block]]:
    """The description (first line before the first block) and the SEARCH/REPLACE blocks."""
    lines = answer.splitlines()
    blocks: list[Block] = []
    description = ""
    path = ""
    path_line = -1
    i = 0
    while i < len(lines):
        line = lines[i]
        if _SEARCH.match(line):
            if not path:
                raise Refused(f"SEARCH block at answer line {i + 1} names no file before it")
            search, i = _until(lines, i + 1, _DIVIDER, "=======")
            replace, i = _until(lines, i + 1, _REPLACE, ">>>>>>> REPLACE")
            blocks.append(Block(path, search, replace))
        elif line.strip() and not _FENCE.match(line):
            if not blocks and not description and path:
                description = _clean_description(lines[path_line])
            path, path_line = line, i
        i += 1
    if not blocks:
        raise Refused("the answer holds no SEARCH/REPLACE block")
    return description, [Block(_clean_path(b.path), b.search, b.replace) for b in blocks]


def _until(lines: list[str], start: int, marker: re.Pattern[str], name: str) -> tuple[str, int]:
    for j in range(start, len(lines)):
        if marker.match(lines[j]):
            body = lines[start:j]
            return ("\n".join(body) + "\n" if body else ""), j
    raise Refused(f"a SEARCH/REPLACE block is missing its `{name}` line")


def _clean_path(line: str) -> str:
    return line.strip().strip("`*").strip().rstrip(":").strip("`*").strip()


def _clean_description(line: str) -> str:
    """The line without markdown decoration or a `Description:` label."""
    text = line.strip(" \t#*_`>")
    if text.lower().startswith("description:"):
        text = text[len("description:") :].strip(" \t*_`")
    return text[:200]


def apply_blocks(root: Path, blocks: list[Block]) -> dict[str, str]:
    """The new text of every file the blocks change (first occurrence of each SEARCH)."""
    texts: dict[str, str | None] = {}
    originals: dict[str, str | None] = {}
    for n, block in enumerate(blocks, start=1):
        try:
            path = safe_path(root, block.path)
        except LadderError as exc:
            raise Refused(f"block {n}: {exc.what}") from exc
        if path not in texts:
            originals[path] = texts[path] = read_text(root, path)
        texts[path] = _apply(texts[path], block, n, path)
    changed = {p: t for p, t in texts.items() if t is not None and t != originals[p]}
    if not changed:
        raise Refused("the SEARCH/REPLACE blocks change nothing")
    return changed


def _apply(text: str | None, block: Block, n: int, path: str) -> str:
    if not block.search:  # an empty SEARCH creates the file, or appends to it
        if not text:
            return block.replace
        return text + ("" if text.endswith("\n") else "\n") + block.replace
    if text is None:
        raise Refused(f"block {n}: {path} does not exist (use an empty SEARCH to create it)")
    at = text.find(block.search)
    if at >= 0:
        return text[:at] + block.replace + text[at + len(block.search) :]
    # The file's last line may lack the newline every block line ends with.
    bare = block.search.rstrip("\n")
    if text.endswith(bare):
        return text[: len(text) - len(bare)] + block.replace.rstrip("\n")
    first = block.search.splitlines()[0].strip()
    raise Refused(f"block {n}: SEARCH text not found in {path} (starting {first[:60]!r})")


# --- options -------------------------------------------------------------------------


def _text(opts: Mapping[str, Any], key: str, *, required: bool = False) -> str:
    value = opts.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise LadderError(
            f"proposer option {key!r} must be a {'non-empty ' if required else ''}string",
            where=_WHERE,
            todo='e.g. {kind = "llm", base_url = "http://localhost:8000/v1", model = "..."}',
        )
    return value


def _number(opts: Mapping[str, Any], key: str, default: float) -> float:
    value = opts.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise LadderError(f"proposer option {key!r} must be a number >= 0", where=_WHERE)
    return float(value)


def _read_error(exc: urllib.error.HTTPError) -> str:
    try:
        return " ".join(exc.read().decode("utf-8", "replace").split())[:200]
    except OSError:
        return str(exc.reason)
