"""What a shell command writes and whether it switches enforcement off, read by the
bashlex-based analysis (`ladder.agents.shell`) in a real git repository."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from ladder.agents import edits, shell
from ladder.agents.base import SwitchesOff
from testing.fixtures import commit, git, make_repo, write

FILES = {
    "evaluate.py": "def score():\n    return 1.0\n",
    "train.py": "LR = 0.1\n",
    "sub/a.py": "A = 1\n",
    "sub/b.txt": "b\n",
    "data/with space.csv": "x\n",
    "scripts/run.sh": "rm -f evaluate.py\n",
    "scripts/ok.sh": "echo fine > out.log\n",
    ".ladder/lessons/protect.toml": "level = 5\n",
}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("shell") / "repo", FILES)


def written(root: Path, command: str, cwd: str = "") -> set[tuple[str, str, str]]:
    where = str(root / cwd) if cwd else str(root)
    return {(e.status, e.path, e.old_path) for e in shell.pending_edits(command, root, where)}


def paths(root: Path, command: str) -> set[str]:
    return {p for _, p, _ in written(root, command)}


@pytest.mark.parametrize(
    "command",
    [
        pytest.param("cat evaluate.py", id="read"),
        pytest.param("python -m pytest -q 2>/dev/null", id="redirect-to-dev-null"),
        pytest.param("grep -n score evaluate.py | head > /tmp/x", id="redirect-outside"),
        pytest.param("sed 's/a/b/' evaluate.py", id="sed-without-i"),
        pytest.param("cp evaluate.py /tmp/backup.py", id="cp-from"),
        pytest.param("echo 'rm evaluate.py'", id="quoted-text"),
        pytest.param("git checkout -b x", id="checkout-new-branch"),
        pytest.param("git switch -c x", id="switch-new-branch"),
        pytest.param("git reset HEAD~1", id="mixed-reset"),
        pytest.param("git restore --staged evaluate.py", id="restore-staged"),
        pytest.param("git diff evaluate.py && git log -3 --stat", id="git-reads"),
        pytest.param("find . -name '*.pyc' -delete", id="find-delete-other-files"),
        pytest.param("python -c \"print(open('evaluate.py').read())\"", id="python-reads"),
        pytest.param("[[ -f evaluate.py ]] && echo yes", id="double-bracket-test"),
        pytest.param("sed -e 's/x/y/' -n evaluate.py", id="sed-n-is-not-in-place"),
        pytest.param("tar tf archive.tar", id="tar-list"),
        pytest.param("command -v rm", id="command-v"),
        pytest.param("git commit -am 'no verify skipped here'", id="commit-a-m"),
    ],
)
def test_commands_that_write_nothing(root: Path, command: str) -> None:
    assert written(root, command) == set()


@pytest.mark.parametrize(
    "command,expected",
    [
        pytest.param("python train.py > run.log 2>&1", {"run.log"}, id="redirect-with-dup"),
        pytest.param("git checkout HEAD~1 -- train.py", {"train.py"}, id="checkout-rev-path"),
        pytest.param("echo x>>evaluate.py", {"evaluate.py"}, id="append-no-space"),
        pytest.param("perl -pi -e 's/1/2/' evaluate.py", {"evaluate.py"}, id="perl-pi"),
        pytest.param("sed -Ei 's/1/2/' evaluate.py", {"evaluate.py"}, id="sed-Ei"),
        pytest.param("sed --in-place=.bak 's/1/2/' evaluate.py", {"evaluate.py"}, id="sed-in-place-suffix"),
        pytest.param("bash -c 'rm evaluate.py'", {"evaluate.py"}, id="bash-c"),
        pytest.param("sh -c \"sh -c 'echo 1 > evaluate.py'\"", {"evaluate.py"}, id="nested-sh-c"),
        pytest.param("eval 'rm evaluate.py'", {"evaluate.py"}, id="eval"),
        pytest.param("find . -name 'e*.py' -exec sed -i s/1/2/ {} \\;", {"evaluate.py"}, id="find-exec"),
        pytest.param("find sub -name '*.py' | xargs sed -i s/1/2/", {"sub/a.py"}, id="find-xargs"),
        pytest.param("git ls-files '*.py' | xargs -n1 sed -i s/1/2/", {"evaluate.py", "train.py", "sub/a.py"},
                     id="ls-files-xargs"),
        pytest.param("awk -i inplace '{print}' evaluate.py", {"evaluate.py"}, id="awk-inplace"),
        pytest.param("echo x | tee -a evaluate.py >/dev/null", {"evaluate.py"}, id="tee-a"),
        pytest.param("F=evaluate.py; rm \"$F\"", {"evaluate.py"}, id="variable"),
        pytest.param("export F=evaluate.py && rm $F", {"evaluate.py"}, id="exported-variable"),
        pytest.param("for f in *.py; do sed -i s/1/2/ \"$f\"; done", {"evaluate.py", "train.py"}, id="for-glob"),
        pytest.param("rm e*.py", {"evaluate.py"}, id="glob"),
        pytest.param("rm {evaluate,train}.py", {"evaluate.py", "train.py"}, id="braces"),
        pytest.param("cd sub && rm a.py", {"sub/a.py"}, id="cd-then-relative"),
        pytest.param("rm -rf sub", {"sub/a.py", "sub/b.txt"}, id="rm-directory"),
        pytest.param("rm \"data/with space.csv\"", {"data/with space.csv"}, id="odd-name"),
        pytest.param("rm $(cat list.txt)/evaluate.py", {"evaluate.py"}, id="substituted-dir"),
        pytest.param("echo $(rm evaluate.py)", {"evaluate.py"}, id="inside-substitution"),
        pytest.param("python -c \"open('evaluate.py', 'w').write('')\"", {"evaluate.py"}, id="python-writes"),
        pytest.param("node -e \"require('fs').writeFileSync('evaluate.py', '')\"", {"evaluate.py"}, id="node-e"),
        pytest.param("[[ -f x ]] && rm evaluate.py", {"evaluate.py"}, id="after-double-bracket"),
        pytest.param("case $x in a) rm evaluate.py;; esac", {"evaluate.py"}, id="unparsed-names-it"),
        pytest.param("bash scripts/run.sh", {"evaluate.py"}, id="script-in-repo"),
        pytest.param("rsync -a /tmp/src/ sub/", {"sub/a.py", "sub/b.txt"}, id="rsync-into"),
        pytest.param("tar xzf /nonexistent.tgz -C sub", {"sub/a.py", "sub/b.txt"}, id="tar-unknown-archive"),
        pytest.param("patch -p1 < /nonexistent.diff", None, id="patch-unseen"),
        pytest.param("git reset --hard HEAD~1 && echo", None, id="reset-hard"),
        pytest.param("cp /tmp/x.py evaluate.py", {"evaluate.py"}, id="cp-onto"),
        pytest.param("cp /tmp/x.py sub", {"sub/x.py"}, id="cp-into-dir"),
        pytest.param("dd if=/dev/zero of=train.py", {"train.py"}, id="dd"),
        pytest.param("git rm -q train.py", {"train.py"}, id="git-rm"),
        pytest.param("chmod 000 evaluate.py", {"evaluate.py"}, id="chmod"),
        pytest.param("truncate -s 0 evaluate.py", {"evaluate.py"}, id="truncate"),
        pytest.param("sudo -u root env A=1 timeout 5 nice -n 2 rm evaluate.py", {"evaluate.py"}, id="prefixes"),
        pytest.param("(cd sub; rm a.py); rm train.py", {"sub/a.py", "train.py"}, id="subshell-cd"),
    ],
)
def test_writes(root: Path, command: str, expected: set[str] | None) -> None:
    if expected is None:  # unknowable: everything below the repository, lessons included
        with pytest.raises(SwitchesOff, match=r"can write \.ladder/lessons/protect\.toml"):
            paths(root, command)
    else:
        assert paths(root, command) == expected


def test_renames(root: Path) -> None:
    assert written(root, "mv evaluate.py old.py") == {("R", "old.py", "evaluate.py")}
    assert written(root, "mv sub moved") == {("R", "moved/a.py", "sub/a.py"), ("R", "moved/b.txt", "sub/b.txt")}
    assert written(root, "git mv train.py sub") == {("R", "sub/train.py", "train.py")}


@pytest.mark.parametrize(
    "command",
    [
        pytest.param("git commit --no-verify -m x", id="no-verify"),
        pytest.param("git commit -nm x", id="commit-n-bundled"),
        pytest.param("git push --no-verify", id="push-no-verify"),
        pytest.param("git -c core.hooksPath=/dev/null commit -m x", id="git-c-hookspath"),
        pytest.param("git -c CORE.HOOKSPATH=x commit -m x", id="git-c-case"),
        pytest.param("git config core.hooksPath /dev/null", id="config-hookspath"),
        pytest.param("git config --global --unset core.hooksPath", id="config-unset"),
        pytest.param("git config include.path ../x.cfg", id="config-include"),
        pytest.param("git config alias.ci 'commit -n'", id="config-alias"),
        pytest.param("SKIP=ladder-check git commit -m x", id="skip-env"),
        pytest.param("export SKIP=ladder-check; git commit -m x", id="skip-exported"),
        pytest.param("GIT_CONFIG_PARAMETERS=\"'core.hookspath'='/x'\" git commit", id="git-config-env"),
        pytest.param("pre-commit uninstall", id="pre-commit-uninstall"),
        pytest.param("ladder hooks uninstall", id="ladder-hooks-uninstall"),
        pytest.param("ladder demote evaluator --to 1 --why x", id="ladder-demote"),
        pytest.param("python -m ladder demote x --to 1 --why y", id="python-m-ladder-demote"),
        pytest.param("ladder try --new-baseline -m x", id="try-new-baseline"),
        pytest.param("git update-index --skip-worktree evaluate.py", id="skip-worktree"),
        pytest.param("git update-ref refs/heads/ladder/run HEAD~1", id="update-ref"),
        pytest.param("git commit-tree HEAD^{tree} -m x", id="commit-tree"),
        pytest.param("echo > .git/hooks/pre-commit", id="write-hook"),
        pytest.param("chmod -x .git/hooks/pre-commit", id="chmod-hook"),
        pytest.param("rm -rf .git/hooks", id="remove-hooks"),
        pytest.param("sed -i 's/level = 5/level = 1/' .ladder/lessons/protect.toml", id="edit-lesson"),
        pytest.param("sed -i 's/5/1/' $(git rev-parse --git-common-dir)/../.ladder/lessons/x.toml",
                     id="lesson-through-common-dir"),
        pytest.param("rm $(git rev-parse --git-common-dir)/hooks/pre-commit", id="hook-through-common-dir"),
        pytest.param("echo 'exclude = [\"*\"]' >> .ladder/config.toml", id="config-exclude"),
        pytest.param("cat /tmp/x > .pre-commit-config.yaml", id="pre-commit-config"),
        pytest.param("echo '{}' > .claude/settings.json", id="agent-hook-settings"),
        pytest.param("bash -c 'git commit --no-verify -m x'", id="nested"),
        pytest.param("case $x in a) git commit --no-verify;; esac", id="unparsed"),
    ],
)
def test_switching_enforcement_off_is_refused(root: Path, command: str) -> None:
    with pytest.raises(SwitchesOff):
        shell.pending_edits(command, root, str(root))


def test_git_commands_write_what_git_says_they_change(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "g", {"evaluate.py": "x = 1\n", "train.py": "y = 1\n"})
    write(repo, "train.py", "y = 2\n")
    git(repo, "stash")
    assert paths(repo, "git stash pop") == {"train.py"}
    write(repo, "evaluate.py", "x = 2\n")
    commit(repo, "evaluator change", "evaluate.py")
    head = git(repo, "rev-parse", "HEAD").stdout.strip()
    assert paths(repo, f"git cherry-pick {head}") == {"evaluate.py"}
    assert paths(repo, "git reset --hard HEAD~1") == {"evaluate.py"}
    assert paths(repo, "git checkout HEAD~1") == {"evaluate.py"}


def test_archives_and_patches_write_what_they_name(root: Path, tmp_path: Path) -> None:
    archive = tmp_path / "a.tar"
    with tarfile.open(archive, "w") as t:
        data = b"print(1)\n"
        info = tarfile.TarInfo("train.py")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    assert paths(root, f"tar xf {archive}") == {"train.py"}
    diff = tmp_path / "x.diff"
    diff.write_text("--- a/evaluate.py\n+++ b/evaluate.py\n@@ -1 +1 @@\n-x\n+y\n")
    assert "evaluate.py" in paths(root, f"patch -p1 < {diff}")
    assert "evaluate.py" in paths(root, f"git apply {diff}")
    assert "evaluate.py" in paths(root, f"cat {diff} | patch -p1")


@pytest.mark.parametrize(
    "text,old,new,replace_all,expected",
    [
        pytest.param("a b a", "a", "c", False, "c b a", id="first-only"),
        pytest.param("a b a", "a", "c", True, "c b c", id="replace-all"),
        pytest.param("a b", "z", "c", False, None, id="not-found-nothing-lands"),
        pytest.param(None, "", "new file", False, "new file", id="create"),
        pytest.param(None, "x", "y", False, None, id="missing-file"),
        pytest.param("a\r\nb\r\n", "a\r\n", "c\r\n", False, "c\r\nb\r\n", id="crlf-kept"),
    ],
)
def test_apply_edit(text: str | None, old: str, new: str, replace_all: bool, expected: str | None) -> None:
    assert edits.apply_edit(text, old, new, replace_all) == expected


def test_multiedit_is_all_or_nothing() -> None:
    assert edits.apply_edits("a b", [{"old_string": "a", "new_string": "c"},
                                     {"old_string": "zz", "new_string": "d"}]) is None


# --- forms a red-team pass found (each a class: quoting, option bundles, runners, state) ---

HEREDOC_COMMIT = "git commit -m \"$(cat <<'EOF'\nTune LR in train.py; evaluate.py untouched\nEOF\n)\""


@pytest.mark.parametrize(
    "command,expected",
    [
        pytest.param("cat <<'EOF'\nnote\nEOF\nrm ev''aluate.py", {"evaluate.py"}, id="after-quoted-heredoc"),
        pytest.param("rm e*.py; case $x in a|b) ;; esac", {"evaluate.py"}, id="beside-unparsed-case"),
        pytest.param("mv -f train.py evaluate.py", {"evaluate.py"}, id="mv-f"),
        pytest.param("sed -e 's/1/9/' -i evaluate.py", {"evaluate.py"}, id="sed-e-then-i"),
        pytest.param("bash -lc \"sed -i 's/1/9/' evaluate.py\"", {"evaluate.py"}, id="bash-lc"),
        pytest.param("python3 -uc 'import os;os.remove(\"evaluate.py\")'", {"evaluate.py"}, id="python-uc"),
        pytest.param("node -p \"require('fs').unlinkSync('evaluate.py')\"", {"evaluate.py"}, id="node-p"),
        pytest.param("perl -we 'unlink \"evaluate.py\"'", {"evaluate.py"}, id="perl-we"),
        pytest.param("$'rm' evaluate.py", {"evaluate.py"}, id="ansi-c-program"),
        pytest.param("echo x > $'\\x65valuate.py'", {"evaluate.py"}, id="ansi-c-escape"),
        pytest.param("$(echo rm) evaluate.py", {"evaluate.py"}, id="unknown-program"),
        pytest.param("c='rm evaluate.py'; $c", {"evaluate.py"}, id="command-in-variable"),
        pytest.param("x=(rm evaluate.py); \"${x[@]}\"", {"evaluate.py"}, id="array"),
        pytest.param("alias r=rm; r evaluate.py", {"evaluate.py"}, id="alias"),
        pytest.param("f(){ \"$@\"; }; f rm evaluate.py", {"evaluate.py"}, id="function-runs-args"),
        pytest.param("set -- rm evaluate.py; \"$@\"", {"evaluate.py"}, id="positional"),
        pytest.param("echo 'rm evaluate.py' | bash", {"evaluate.py"}, id="piped-into-bash"),
        pytest.param("bash <<< 'rm evaluate.py'", {"evaluate.py"}, id="here-string"),
        pytest.param("trap 'rm evaluate.py' EXIT", {"evaluate.py"}, id="trap"),
        pytest.param("uv run rm evaluate.py", {"evaluate.py"}, id="runner"),
        pytest.param("sudo -iu root rm evaluate.py", {"evaluate.py"}, id="sudo-bundle"),
        pytest.param("flock /tmp/l -c 'rm evaluate.py'", {"evaluate.py"}, id="flock-c"),
        pytest.param("false && cd sub; rm evaluate.py", {"evaluate.py"}, id="cd-that-may-not-run"),
        pytest.param("cd \"$(git rev-parse --show-toplevel)\" && sed -i s/1/2/ evaluate.py", {"evaluate.py"},
                     id="cd-unknown"),
        pytest.param("f=evalu; f+=ate.py; rm $f", {"evaluate.py"}, id="append-assignment"),
        pytest.param("rm {e..e}valuate.py", {"evaluate.py"}, id="brace-range"),
        pytest.param("rm [[:alpha:]]valuate.py", {"evaluate.py"}, id="posix-class"),
        pytest.param("rm +(e)valuate.py", {"evaluate.py"}, id="extglob"),
        pytest.param("rm ./e*", {"evaluate.py"}, id="dot-slash-glob"),
        pytest.param("find . -name train.py -exec cp {} evaluate.py \\;", {"evaluate.py"}, id="exec-fixed-arg"),
        pytest.param("echo train.py | xargs rm evaluate.py", {"evaluate.py", "train.py"}, id="xargs-fixed-arg"),
        pytest.param("curl -o evaluate.py http://x", {"evaluate.py"}, id="curl-o"),
        pytest.param("sed -n '1w evaluate.py' train.py", {"evaluate.py"}, id="sed-w"),
        pytest.param("sort -o evaluate.py train.py", {"evaluate.py"}, id="sort-o"),
        pytest.param("gzip evaluate.py", {"evaluate.py"}, id="gzip"),
        pytest.param("ruff format evaluate.py", {"evaluate.py"}, id="formatter"),
        pytest.param("git diff --output=evaluate.py HEAD", {"evaluate.py"}, id="git-output"),
        pytest.param("python3 -c \"import pathlib; pathlib.Path('evaluate.py').open('w')\"", {"evaluate.py"},
                     id="path-open-w"),
        pytest.param("ln evaluate.py e2 && truncate -s0 e2", {"evaluate.py", "e2"}, id="write-through-link"),
    ],
)
def test_red_team_writes(root: Path, command: str, expected: set[str]) -> None:
    assert expected <= paths(root, command)


@pytest.mark.parametrize(
    "command",
    [
        pytest.param("git commit -nm \"$(cat <<'EOF'\nfix\nEOF\n)\"", id="heredoc-commit-n"),
        pytest.param("git commit --no-veri -m x", id="abbreviated-no-verify"),
        pytest.param("echo '[core] hooksPath=/x' >> ~/.gitconfig", id="global-gitconfig"),
        pytest.param("HOME=/tmp/x git commit -m x", id="home"),
        pytest.param("PATH=/tmp/fake:$PATH git commit -m x", id="path"),
        pytest.param("pre-commit install -c /tmp/empty.yaml -f", id="pre-commit-other-config"),
        pytest.param("ln .git/config cfg && echo x >> cfg", id="link-to-git-config"),
        pytest.param("git config set core.hooksPath /x", id="config-set"),
        pytest.param("git config $'core.hooksPath' /x", id="config-ansi-c"),
        pytest.param("git --exec-path=/tmp/x commit -m x", id="exec-path"),
        pytest.param("echo x > .git/HEAD", id="git-internals"),
        pytest.param("pip install ./fake-ladder", id="replace-ladder"),
        pytest.param("eval \"$(echo rm evaluate.py)\"", id="eval-unknown"),
        pytest.param("python -c \"open('eval'+'uate.py','w')\"", id="computed-python-target"),
        pytest.param("git config core.editor 'rm evaluate.py'", id="command-valued-config"),
    ],
)
def test_red_team_switch_offs(root: Path, command: str) -> None:
    with pytest.raises(SwitchesOff):
        shell.pending_edits(command, root, str(root))


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(HEREDOC_COMMIT, id="heredoc-commit-message"),
        pytest.param("cat > notes.md <<'EOF'\nscore comes from evaluate.py\nEOF", id="heredoc-names-a-file"),
        pytest.param("python - <<'EOF'\nprint(open('evaluate.py').read())\nEOF", id="python-heredoc-reads"),
        pytest.param("node -e \"console.log(require('fs').readFileSync('evaluate.py','utf8'))\"", id="node-reads"),
        pytest.param("LOG=$(mktemp); python train.py > \"$LOG\"; tail \"$LOG\"", id="mktemp-log"),
        pytest.param("git config core.hooksPath", id="config-read"),
        pytest.param("ladder demote --help", id="help"),
        pytest.param("git -c alias.x=y status", id="unused-alias"),
        pytest.param("git restore .", id="restore-clean-tree"),
        pytest.param("git stash pop", id="no-stash"),
        pytest.param("pip install numpy", id="pip-other"),
        pytest.param("git worktree add ../wt2 -b x", id="worktree-elsewhere"),
        pytest.param("git -C", id="truncated"),
        pytest.param("rm [z-a]", id="bad-range"),
        pytest.param("git diff $(git rev-parse HEAD) -- x", id="unknown-revision"),
        pytest.param("echo a\x02b" + "$a" * 400, id="control-chars-and-depth"),
    ],
)
def test_red_team_false_blocks_and_crashes(root: Path, command: str) -> None:
    assert "evaluate.py" not in paths(root, command)


def test_a_fifo_is_never_read(root: Path, tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for command in (f"bash {fifo}", f"source {fifo}", f"patch -p1 < {fifo}", f"git apply {fifo}"):
        shell.analyse(command, root, str(root))  # returns: a FIFO would block a read forever
