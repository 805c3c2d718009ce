"""The user-namespace sandbox (ladder/sandbox): what a confined process can and cannot do,
tried with real processes. Each case runs a shell inside a real sandbox."""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from ladder.agent.config import SandboxSettings
from ladder.agent.evaluate import evaluate
from ladder.agent.records import EvalJob
from ladder.errors import LadderError
from ladder.sandbox import SANDBOXES, Confinement, NoSandbox, UserNamespaces, resolve

USERNS = SANDBOXES["userns"].problem()
pytestmark = pytest.mark.skipif(bool(USERNS), reason=f"no user namespaces here: {USERNS}")


def confined(script: str, confinement: Confinement) -> subprocess.CompletedProcess[str]:
    argv = SANDBOXES["userns"].wrap(["/bin/sh", "-c", script], confinement)
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "mine").mkdir()
    (tmp_path / "theirs.txt").write_text("theirs\n")
    return tmp_path


def test_only_the_writable_paths_can_be_written(tree: Path) -> None:
    done = confined(f"echo new > {tree}/mine/a && echo bad > {tree}/theirs.txt; "
                    f"touch {tree}/new.txt; touch /tmp/ladder-sandbox-escape-$$; exit 0",
                    Confinement((tree / "mine",)))
    assert (tree / "mine" / "a").read_text() == "new\n"
    assert (tree / "theirs.txt").read_text() == "theirs\n" and not (tree / "new.txt").exists()
    assert done.stderr.count("Read-only file system") == 3, done.stderr


def test_hidden_paths_read_as_empty(tree: Path) -> None:
    secret_dir = tree / "keys"
    secret_dir.mkdir()
    (secret_dir / "anchor.key").write_text("k3y")
    done = confined(f"cat {secret_dir}/anchor.key; cat {tree}/theirs.txt; ls -A {secret_dir}",
                    Confinement((tree / "mine",), hidden=(secret_dir, tree / "theirs.txt")))
    assert "k3y" not in done.stdout and "theirs" not in done.stdout
    assert "No such file" in done.stderr
    assert (secret_dir / "anchor.key").read_text() == "k3y"  # outside, nothing changed


def test_the_confinement_cannot_be_undone_from_inside(tree: Path) -> None:
    """The command holds no capability over its mount namespace; a nested namespace of
    its own inherits the read-only mounts locked."""
    script = (f"umount {tree}; mount -o remount,rw /; mount -o remount,bind,rw {tree}; "
              f"unshare -Urm sh -c 'mount -o remount,bind,rw {tree}; umount -l {tree}; "
              f"echo bad > {tree}/theirs.txt'; echo bad > {tree}/theirs.txt; exit 0")
    confined(script, Confinement((tree / "mine",)))
    assert (tree / "theirs.txt").read_text() == "theirs\n"


def _server() -> tuple[socket.socket, int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    threading.Thread(target=lambda: server.accept()[0].close(), daemon=True).start()
    return server, server.getsockname()[1]


@pytest.mark.parametrize("network", [False, True])
def test_the_network_is_off_unless_asked_and_loopback_still_works(tree: Path, network: bool) -> None:
    server, port = _server()
    reach = (f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), 5)\n"
             "    print('reached')\nexcept OSError:\n    print('unreachable')\n"
             "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
             "socket.create_connection(s.getsockname(), 5); print('loopback ok')\n")
    (tree / "mine" / "reach.py").write_text(reach)
    import sys

    done = confined(f"{sys.executable} {tree}/mine/reach.py",
                    Confinement((tree / "mine",), network=network))
    server.close()
    assert done.stdout.split() == ["reached" if network else "unreachable", "loopback", "ok"], done.stderr


def test_a_sandbox_that_cannot_be_built_never_runs_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fails closed: the evaluation is a crash saying why, and the command did not run."""
    marker = tmp_path / "ran"
    job = EvalJob("k", tmp_path, f"touch {marker}; echo loss: 1", 1, 30, sandbox="userns")
    assert evaluate(job, "loss").ok and marker.exists()  # the control
    marker.unlink()

    class Unbuildable(UserNamespaces):  # the real enter.py, asked for a directory that is gone
        def wrap(self, argv: Sequence[str], confinement: Confinement,
                 report_fd: int | None = None) -> list[str]:
            gone = dataclasses.replace(confinement, cwd=tmp_path / "gone")
            return super().wrap(argv, gone, report_fd)

    monkeypatch.setitem(SANDBOXES, "userns", Unbuildable())
    result = evaluate(job, "loss")
    assert not result.ok and not marker.exists()
    assert result.reason.startswith("the userns sandbox could not be built (the command did not run)")
    assert "gone" in result.reason


def test_a_named_sandbox_that_cannot_run_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken(NoSandbox):
        name = "userns"

        def problem(self) -> str:
            return "user namespaces are off (kernel.unprivileged_userns_clone = 0)"

    monkeypatch.setitem(SANDBOXES, "userns", Broken())
    with pytest.raises(LadderError, match="the userns sandbox cannot run here: user namespaces are off"):
        resolve("userns")
    box, note = resolve("auto")  # auto falls back, and says so at the run's start
    assert box.name == "none" and "tampering is detected, not prevented" in note


def test_the_default_is_auto() -> None:
    assert SandboxSettings().mode == "auto" and SandboxSettings().network is False


def test_a_process_left_behind_dies_with_the_command(tree: Path) -> None:
    """The command is the first process of its own PID namespace: a daemon that left its
    process group (setsid) dies when it exits, and nothing outside can be signalled."""
    marker = tree / "mine" / "daemon-was-here"
    script = (f"(setsid sh -c 'sleep 1; touch {marker}' &); "
              f"kill -0 {__import__('os').getpid()} 2>/dev/null && echo sees-ladder; exit 0")
    done = confined(script, Confinement((tree / "mine",)))
    import time

    time.sleep(2)
    assert not marker.exists()
    assert "sees-ladder" not in done.stdout


def test_dev_shm_is_private(tree: Path) -> None:
    name = f"ladder-sandbox-test-{__import__('os').getpid()}"
    confined(f"echo x > /dev/shm/{name}", Confinement((tree / "mine",)))
    assert not Path("/dev/shm", name).exists()
