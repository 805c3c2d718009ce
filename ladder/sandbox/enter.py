"""Enter a user-namespace sandbox, then exec a command: the whole filesystem read-only
except the paths given as writable, some paths hidden, and no network unless asked.

Run as a file by a fresh interpreter (`python -I -S enter.py SPEC -- argv...`), never
imported by ladder's own process: `unshare(CLONE_NEWUSER)` refuses a process with
threads, and the loop has worker threads. Standard library only, so it starts in ~20 ms.

The steps, and why each is there:

1. `unshare(NEWUSER | NEWNS [| NEWNET])`, this process mapped to root *inside* its own
   namespace: it may now change its own mount table, which nobody else sees.
2. Every writable path is bind-mounted onto itself, so it is its own mount and keeps its
   write access when what holds it becomes read-only.
3. Every other mount (the root, /tmp, /home...) is remounted read-only, except the
   kernel's own (/proc, /sys, /dev: GPUs and /dev/shm live there).
4. Hidden paths get an empty tmpfs (a directory) or /dev/null (a file) on top: ladder's
   anchor key is one.
5. A second, nested user namespace maps the caller's own uid back and holds no capability
   over the mount namespace: the command cannot unmount or remount what step 3 did.

Any failure exits 125 with one line on stderr: a sandbox that cannot be built never
runs the command unconfined (it fails closed).

With `report_fd` in its spec (also without confinement, `confine: false`) it does not
exec the command but runs it as a child and reports the child's peak memory on that
file descriptor (`_child`). Then nothing it runs outlives ladder: with `parent` in its
spec it asks for SIGTERM when ladder dies (a `kill -9` included, PR_SET_PDEATHSIG), and
stops every descendant on it. In a sandbox the child is the first process of its PID
namespace, whose end ends the rest; without one this process is a child subreaper, so a
process that left the group (a daemon) is still its descendant and is stopped too.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import signal
import socket
import struct
import sys
from collections.abc import Iterator, Sequence

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND = 32, 1024, 2048, 4096
MS_REC, MS_PRIVATE, MS_RELATIME, MS_STRICTATIME = 16384, 1 << 18, 1 << 21, 1 << 24
MS_NOSYMFOLLOW = 256  # Linux 5.10+; older kernels ignore the bit (so it is checked)
# Flags a remount inside a user namespace must keep: the kernel locks them.
_KEPT = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "noatime": MS_NOATIME,
         "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME, "strictatime": MS_STRICTATIME,
         "nosymfollow": MS_NOSYMFOLLOW}
KERNEL = ("/proc", "/sys", "/dev")
FAILED = 125

_libc = ctypes.CDLL(None, use_errno=True)


class SandboxError(Exception):
    pass


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise SandboxError(f"{what}: {os.strerror(code)} ({errno.errorcode.get(code, code)})")


def _mount(source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    _check(_libc.mount(source and source.encode(), target.encode(),
                       fstype and fstype.encode(), ctypes.c_ulong(flags),
                       data and data.encode()), f"mount {target}")


def _write(path: str, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


def _map(inner_uid: int, outer_uid: int, inner_gid: int, outer_gid: int) -> None:
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{inner_uid} {outer_uid} 1")
    _write("/proc/self/gid_map", f"{inner_gid} {outer_gid} 1")


def _unescape(field: str) -> str:
    # mountinfo writes space, tab, newline and backslash as octal escapes.
    out: list[str] = []
    i = 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def _mounts() -> Iterator[tuple[str, list[str]]]:
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            fields = line.split()
            yield _unescape(fields[4]), fields[5].split(",")


def _under(path: str, roots: Sequence[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


def _loopback_up() -> None:
    # A fresh network namespace has only `lo`, and it is down: bring it up so that
    # localhost (torchrun's rendezvous, a local data server) still works.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, 0x8913, req))[1]  # SIOCGIFFLAGS
        fcntl.ioctl(s, 0x8914, struct.pack("16sH14x", b"lo", flags | 1))  # SIOCSIFFLAGS, IFF_UP


def _options(target: str) -> list[str]:
    found: list[str] = []
    for mounted, options in _mounts():
        if mounted == target:
            found = options  # the last one is on top
    return found


def _remount_read_only(target: str, extra: int = 0) -> None:
    kept = sum(flag for name, flag in _KEPT.items() if name in _options(target))
    _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | kept | extra)


def confine(writable: Sequence[str], hidden: Sequence[str], network: bool,
            readonly: Sequence[str] = (), nosymfollow: Sequence[str] = ()) -> None:
    """`readonly`: paths inside writable ones kept read-only (a checkout's `.git` file:
    what tells ladder's own git where the repository is). `nosymfollow`: read-only paths
    whose symlinks are not followed (what the candidate left, read by the scorer, which
    may see paths the candidate may not)."""
    uid, gid = os.getuid(), os.getgid()
    # NEWPID: the command runs as the first process of its own PID namespace, so every
    # process it leaves behind (a daemon that left its group) dies when it exits, and
    # it cannot see or signal a process outside.
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID
                         | (0 if network else CLONE_NEWNET)),
           "unshare (user namespaces may be off on this machine)")
    _map(0, uid, 0, gid)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing we do leaks out
    # A writable path that does not exist yet cannot be mounted: it stays read-only.
    writable = [os.path.realpath(p) for p in writable if os.path.exists(p)]
    for path in writable:
        _mount(path, path, None, MS_BIND | MS_REC)
    for name in readonly:
        path = os.path.realpath(name)
        if os.path.lexists(path):
            _mount(path, path, None, MS_BIND)
            _remount_read_only(path)
    for name in nosymfollow:
        path = os.path.realpath(name)
        _mount(path, path, None, MS_BIND | MS_REC)
        _remount_read_only(path, MS_NOSYMFOLLOW)
        if "nosymfollow" not in _options(path):
            raise SandboxError("this kernel cannot refuse to follow symlinks (nosymfollow: "
                               "Linux 5.10 or later), which reading the candidate's outputs "
                               "beside hidden paths needs")
    for target, options in reversed(list(_mounts())):
        if _under(target, KERNEL) or _under(target, writable) or "ro" in options:
            continue
        kept = sum(flag for name, flag in _KEPT.items() if name in options)
        _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | kept)
    for name in hidden:
        path = os.path.realpath(name)
        if os.path.isdir(path):
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=4k,mode=000")
        elif os.path.exists(path):
            _mount("/dev/null", path, None, MS_BIND)
    if os.path.isdir("/dev/shm"):  # a private one: no channel to another evaluation
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    if not network:
        _loopback_up()
    # Give up every capability over this mount namespace: back to the caller's own uid.
    _check(_libc.unshare(CLONE_NEWUSER), "unshare (dropping the namespace's root)")
    _map(uid, 0, gid, 0)


def _descendants(pid: int) -> list[int]:
    """Every living descendant of `pid`, parents before children (/proc's children
    lists; with this process a subreaper, orphans are children of it)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{current}/task"):
                with contextlib.suppress(OSError), open(f"/proc/{current}/task/{task}/children") as fh:
                    kids = [int(k) for k in fh.read().split()]
                    found += kids
                    todo += kids
    return found


def _kill_tree() -> None:
    """SIGKILL every descendant of this process (looked for again until none is left:
    one may fork while we kill)."""
    for _ in range(50):
        pids = _descendants(os.getpid())
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:  # reap what died, so it leaves the lists
                pass


def _watch_parent(parent: int | None) -> None:
    """SIGTERM to this process when ladder (`parent`) dies; when it already has, exit."""
    if parent is None:
        return
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # it died before the request was made
        sys.exit(FAILED)


def _child(command: list[str], report_fd: int | None, confined: bool = True,
           parent: int | None = None) -> int:
    """Run `command` as a child -- in a sandbox, the first process of its PID namespace
    -- and exit as it exits. With `report_fd`, write its peak resident memory (KiB, from
    `wait4`) there, a descriptor the child never holds: a number the command cannot
    forge. A child of this small process starts from its size, not from ladder's (a
    fork keeps the parent's resident pages until exec, and the kernel counts them)."""
    # Not dumpable: /proc/<this>/fd (the report's descriptor) is closed to the command,
    # which runs as the same user (in a sandbox, in the same namespaces).
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    if not confined:
        _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    _watch_parent(parent)
    me = os.getpid()
    pid = os.fork()
    if pid == 0:
        try:
            if report_fd is not None:
                os.close(report_fd)
            # This process dying (SIGKILL, which it cannot handle) takes the command
            # with it; in a PID namespace the command's end ends every process it left.
            _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() not in (me, 0):  # 0: its parent is outside its PID namespace
                os._exit(FAILED)
            os.execvp(command[0], command)
        except OSError as exc:
            sys.stderr.write(f"ladder sandbox: cannot run {command[0]}: {exc}\n")
        os._exit(127)
    # Asked to stop (ladder's timeout): stop the child at once -- as the first process
    # of its PID namespace it ignores SIGTERM, and its end ends every process it left.
    def stop(*_: object) -> None:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        if not confined:
            _kill_tree()

    signal.signal(signal.SIGTERM, stop)
    _, status, usage = os.wait4(pid, 0)
    if not confined:
        _kill_tree()  # what the command left running (the orphans came to this process)
    if report_fd is not None:
        with contextlib.suppress(OSError):
            os.write(report_fd, f"{usage.ru_maxrss}\n".encode())
            os.close(report_fd)
    code = os.waitstatus_to_exitcode(status)
    if code < 0:  # die of the same signal, so ladder reads the same exit status
        with contextlib.suppress(OSError, ValueError):  # SIGKILL's cannot be set: no need
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    return code


def main(argv: list[str]) -> int:
    try:
        split = argv.index("--")
        spec = json.loads(argv[split - 1])
        command = argv[split + 1:]
        if not command:
            raise SandboxError("no command to run")
        confining = bool(spec.get("confine", True))
        if confining:
            confine(spec.get("writable", []), spec.get("hidden", []), bool(spec.get("network")),
                spec.get("readonly", []), spec.get("nosymfollow", []))
        os.chdir(spec.get("cwd") or os.getcwd())  # re-enter the cwd through the new mounts
    except (SandboxError, OSError, ValueError, IndexError) as exc:
        sys.stderr.write(f"ladder sandbox: cannot confine the command: {exc}\n")
        return FAILED
    report_fd = spec.get("report_fd")
    parent = spec.get("parent")
    if confining or isinstance(report_fd, int):  # a new PID namespace needs the fork
        return _child(command, report_fd if isinstance(report_fd, int) else None, confining,
                      parent if isinstance(parent, int) else None)
    try:
        os.execvp(command[0], command)
    except OSError as exc:
        sys.stderr.write(f"ladder sandbox: cannot run {command[0]}: {exc}\n")
        return 127
    return 0  # not reached: exec replaced this process


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
