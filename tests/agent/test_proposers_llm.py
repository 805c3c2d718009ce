from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ladder.agent.config import ProposerSpec
from ladder.agent.proposers import make_proposer
from ladder.agent.proposers.llm import Block, LLMProposer, Refused, apply_blocks, parse_answer
from ladder.agent.records import Attempt, ProposalContext
from ladder.errors import LadderError
from testing.fixtures import make_repo

TRAIN = "LR = 0.01\nSTEPS = 100\n\n\ndef train():\n    return LR * STEPS\n"
ANSWER = """\
Double the learning rate to converge faster

train.py
```python
<<<<<<< SEARCH
LR = 0.01
=======
LR = 0.02
>>>>>>> REPLACE
```
"""


@dataclass
class Endpoint:
    """A local OpenAI-style chat endpoint answering from a queue of (status, body)."""

    url: str
    replies: list[tuple[int, Any]] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)

    def answer(self, content: str, status: int = 200) -> None:
        self.replies.append(
            (status, {"choices": [{"message": {"role": "assistant", "content": content}}]})
        )


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[Endpoint]:
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    state = Endpoint(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append((self.path, dict(self.headers), body))
            status, reply = state.replies.pop(0) if state.replies else (500, {"error": "no reply"})
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "r", {"train.py": TRAIN, "evaluate.py": "print('loss: 1')\n"})


def ctx_for(root: Path) -> ProposalContext:
    return ProposalContext(
        root=root,
        editable=("train.py",),
        iteration=7,
        rng=random.Random(7),
        rules="## Rules from past lessons\n\n- Always call validate_input before training.\n",
        attempts=(
            Attempt(5, "STEPS 100 -> 200", "keep", effect=-0.1),
            Attempt(6, "delete validate_input", "blocked", reason="require-call lesson"),
        ),
        skills="## Skills\n\n- Halving LR rarely helps here.\n",
    )


def proposer(endpoint: Endpoint, **kw: Any) -> LLMProposer:
    return LLMProposer(endpoint.url, "tiny-model", retry_delay=0.0, timeout=5.0, **kw)


def test_answer_becomes_a_proposal(
    endpoint: Endpoint, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LADDER_TEST_KEY", "sk-test")
    endpoint.answer(ANSWER)
    llm = proposer(endpoint, api_key_env="LADDER_TEST_KEY", temperature=0.2, max_tokens=500)
    p = llm.propose(ctx_for(root))
    assert p is not None, llm.last_error
    assert p.description == "Double the learning rate to converge faster"
    assert p.files == {"train.py": TRAIN.replace("0.01", "0.02")}
    assert p.features == {"operator": "llm", "files": ["train.py"], "symbols": ["LR"]}
    assert p.proposer == "llm"
    assert (root / "train.py").read_text() == TRAIN  # the checkout is only read

    ((path, headers, body),) = endpoint.requests
    assert path == "/v1/chat/completions"
    assert headers["Authorization"] == "Bearer sk-test"
    assert body["model"] == "tiny-model"
    assert body["temperature"] == 0.2
    assert body["max_tokens"] == 500
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    prompt = body["messages"][1]["content"]
    assert "- Always call validate_input before training." in prompt
    assert "#6 delete validate_input -> blocked: require-call lesson" in prompt
    assert "#5 STEPS 100 -> 200 -> keep, effect -0.1" in prompt
    assert "Halving LR rarely helps here." in prompt
    assert "def train():\n    return LR * STEPS" in prompt
    assert "<<<<<<< SEARCH" in prompt
    assert "print('loss: 1')" not in prompt  # a protected file is not shown


def test_no_key_sends_no_auth_header(endpoint: Endpoint, root: Path) -> None:
    endpoint.answer(ANSWER)
    assert proposer(endpoint).propose(ctx_for(root)) is not None
    assert "Authorization" not in endpoint.requests[0][1]


def test_search_not_found_is_refused(endpoint: Endpoint, root: Path) -> None:
    endpoint.answer(ANSWER.replace("LR = 0.01\n=", "LR = 0.03\n="))
    llm = proposer(endpoint)
    assert llm.propose(ctx_for(root)) is None
    assert llm.last_error == "block 1: SEARCH text not found in train.py (starting 'LR = 0.03')"
    assert "LR = 0.03" in llm.last_answer


def test_server_error_then_success_via_the_retry(endpoint: Endpoint, root: Path) -> None:
    endpoint.replies.append((503, {"error": "overloaded"}))
    endpoint.answer(ANSWER)
    llm = proposer(endpoint)
    assert llm.propose(ctx_for(root)) is not None, llm.last_error
    assert len(endpoint.requests) == 2


def test_two_server_errors_give_up(endpoint: Endpoint, root: Path) -> None:
    endpoint.replies += [(502, {"error": "bad gateway"}), (500, {"error": "boom"})]
    llm = proposer(endpoint)
    assert llm.propose(ctx_for(root)) is None
    assert llm.last_error.startswith("HTTP 500 from ")
    assert len(endpoint.requests) == 2


def test_client_error_is_not_retried(endpoint: Endpoint, root: Path) -> None:
    endpoint.replies.append((400, {"error": "context too long"}))
    llm = proposer(endpoint)
    assert llm.propose(ctx_for(root)) is None
    assert "HTTP 400" in llm.last_error and "context too long" in llm.last_error
    assert len(endpoint.requests) == 1


def test_bad_key_stops_the_run(endpoint: Endpoint, root: Path) -> None:
    endpoint.replies.append((401, {"error": "invalid api key"}))
    with pytest.raises(LadderError, match="HTTP 401"):
        proposer(endpoint).propose(ctx_for(root))


def test_unreachable_endpoint_proposes_nothing(root: Path) -> None:
    llm = LLMProposer("http://127.0.0.1:9/v1", "m", retry_delay=0.0, timeout=2.0)
    assert llm.propose(ctx_for(root)) is None
    assert llm.last_error.startswith("no answer from http://127.0.0.1:9/v1/chat/completions")


def test_missing_key_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LADDER_NO_SUCH_KEY", raising=False)
    spec = ProposerSpec(
        "llm", {"base_url": "http://x/v1", "model": "m", "api_key_env": "LADDER_NO_SUCH_KEY"}
    )
    with pytest.raises(LadderError, match="LADDER_NO_SUCH_KEY"):
        make_proposer(spec)


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"model": "m"}, id="no-base-url"),
        pytest.param({"base_url": "http://x/v1"}, id="no-model"),
        pytest.param(
            {"base_url": "http://x/v1", "model": "m", "temperature": "hot"}, id="bad-number"
        ),
        pytest.param({"base_url": "http://x/v1", "model": "m", "cmd": "x"}, id="unknown-option"),
    ],
)
def test_bad_options(options: dict[str, object]) -> None:
    with pytest.raises(LadderError):
        make_proposer(ProposerSpec("llm", options))


# --- answers, as pure functions ------------------------------------------------------


def test_parse_answer_several_blocks_and_files() -> None:
    answer = (
        "**Description:** tune two knobs\n\n"
        "`train.py`\n<<<<<<< SEARCH\nLR = 0.01\n=======\nLR = 0.02\n>>>>>>> REPLACE\n"
        "<<<<<<< SEARCH\nSTEPS = 100\n=======\n>>>>>>> REPLACE\n\n"
        "lib/util.py:\n<<<<<<< SEARCH\n=======\nHELP = 1\n>>>>>>> REPLACE\n"
    )
    description, blocks = parse_answer(answer)
    assert description == "tune two knobs"
    assert blocks == [
        Block("train.py", "LR = 0.01\n", "LR = 0.02\n"),
        Block("train.py", "STEPS = 100\n", ""),  # the same file again, by default
        Block("lib/util.py", "", "HELP = 1\n"),
    ]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        pytest.param("I would raise LR.", "no SEARCH/REPLACE block", id="no-block"),
        pytest.param(
            "<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n", "names no file", id="no-file"
        ),
        pytest.param(
            "a.py\n<<<<<<< SEARCH\nx\n=======\ny\n",
            "missing its `>>>>>>> REPLACE`",
            id="unterminated",
        ),
    ],
)
def test_parse_answer_refuses(answer: str, reason: str) -> None:
    with pytest.raises(Refused, match=reason):
        parse_answer(answer)


def test_apply_blocks_creates_appends_and_replaces_first(root: Path) -> None:
    (root / "tail.py").write_text("A = 1")  # no final newline
    changed = apply_blocks(
        root,
        [
            Block("train.py", "LR", "lr"),
            Block("new/mod.py", "", "B = 2\n"),
            Block("tail.py", "A = 1\n", "A = 3\n"),
        ],
    )
    assert changed == {
        "train.py": TRAIN.replace("LR", "lr", 1),
        "new/mod.py": "B = 2\n",
        "tail.py": "A = 3",
    }


@pytest.mark.parametrize(
    ("block", "reason"),
    [
        pytest.param(Block("../x.py", "", "X\n"), "outside the repository", id="escapes-root"),
        pytest.param(Block("missing.py", "x\n", "y\n"), "does not exist", id="missing-file"),
        pytest.param(Block("train.py", "LR = 0.01\n", "LR = 0.01\n"), "change nothing", id="noop"),
    ],
)
def test_apply_blocks_refuses(root: Path, block: Block, reason: str) -> None:
    with pytest.raises(Refused, match=reason):
        apply_blocks(root, [block])


def test_an_edit_of_a_protected_file_is_still_proposed(root: Path) -> None:
    # The loop's editable check refuses it and records why; the proposer does not hide it.
    changed = apply_blocks(root, [Block("evaluate.py", "1", "0")])
    assert changed == {"evaluate.py": "print('loss: 0')\n"}
