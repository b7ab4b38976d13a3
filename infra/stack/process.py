"""Process, file and lock helpers shared by the PostgreSQL, Redis and Kafka modules.

Everything here exists so that the three service modules only say *what* differs between
services (commands, config files, health checks) and never re-implement *how* to daemonise,
poll, stop by pidfile or take the stack lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from infra.stack.config import Endpoint
from infra.stack.errors import ServiceUnavailable, StackError

Log = Callable[[str], None]

# Java stack frames bury the one line that says what went wrong; error tails skip them.
_STACK_FRAME = re.compile(r"^\s+(at |\.\.\. \d+ more)")


def tcp_answers(endpoint: Endpoint, timeout: float = 1.0) -> bool:
    """Cheap first probe: does anything accept a TCP connection on this address?"""
    try:
        with socket.create_connection((endpoint.host, endpoint.port), timeout=timeout):
            return True
    except OSError:
        return False


def poll(
    attempt: Callable[[float], None],
    timeout: float,
    what: str,
    *,
    alive: Callable[[], bool] | None = None,
    interval: float = 0.25,
) -> None:
    """Call ``attempt(remaining_seconds)`` until it returns without raising or time runs out.

    Servers answer TCP before they answer their protocol (PostgreSQL says "starting up", Kafka
    has no broker registered yet), so every failure is retried; the last one is reported.
    ``alive`` lets a caller stop waiting at once when the process it started has died.
    """
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ServiceUnavailable(f"{what} did not answer within {timeout:g} s: {_text(last)}")
        if alive is not None and not alive():
            raise ServiceUnavailable(f"{what}: the server process exited ({_text(last)})")
        try:
            attempt(remaining)
            return
        except Exception as exc:  # any failure may be transient while a server boots
            last = exc
        time.sleep(max(0.0, min(interval, deadline - time.monotonic())))


def _text(exc: BaseException | None) -> str:
    """Exception text that is never empty (``TimeoutError()`` prints as nothing)."""
    if exc is None:
        return "no attempt finished"
    return str(exc).strip() or type(exc).__name__


def read_pid(pidfile: Path) -> int | None:
    """The pid on the first line of a pidfile (PostgreSQL's postmaster.pid has more lines)."""
    try:
        first = pidfile.read_text().splitlines()[0].strip()
    except (OSError, IndexError):
        return None
    return int(first) if first.isdigit() else None


def pid_alive(pid: int) -> bool:
    """True if ``pid`` runs and is not a zombie (a zombie still answers ``kill(pid, 0)``)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it if it happens to be our own exited child
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[0] != "Z"


def live_pid(pidfile: Path, command_marker: str) -> int | None:
    """The pidfile's pid if that process is alive *and* is the expected program.

    Checking the command line guards against a stale pidfile whose pid the kernel has since
    given to an unrelated process, which ``down`` must never signal.
    """
    pid = read_pid(pidfile)
    if pid is None or not pid_alive(pid):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return pid
    return pid if command_marker in cmdline else None


def as_user(argv: Sequence[str], user: str) -> list[str]:
    """Prefix ``runuser`` when we are root, because initdb/postgres refuse to run as root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", user, "--", *argv]
    return list(argv)


def run(
    argv: Sequence[str],
    what: str,
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
) -> str:
    """Run a command to completion; on failure raise StackError carrying its output."""
    try:
        done = subprocess.run(
            list(argv),
            env=None if env is None else {**os.environ, **env},
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StackError(f"{what} failed: {exc}") from exc
    if done.returncode != 0:
        output = (done.stdout + done.stderr).strip()[-3000:]
        raise StackError(f"{what} failed (exit {done.returncode}):\n{output}")
    return done.stdout


def daemonize(
    argv: Sequence[str], log_file: Path, *, env: Mapping[str, str] | None = None, cwd: Path
) -> int:
    """Start ``argv`` detached (own session, stdin from /dev/null, output appended to log_file).

    A throw-away ``sh`` backgrounds the real program and prints its pid, so the program is
    re-parented away from us: it survives the CLI's exit, and a long-lived caller (pytest)
    neither collects a zombie nor gets "subprocess still running" warnings.
    """
    script = '"$@" </dev/null >>"$PHOTOFLOW_DAEMON_LOG" 2>&1 & echo $!'
    full_env = {**os.environ, **(env or {}), "PHOTOFLOW_DAEMON_LOG": str(log_file)}
    done = subprocess.run(
        ["sh", "-c", script, "sh", *argv],
        env=full_env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        start_new_session=True,
        check=False,
    )
    pid_text = done.stdout.strip()
    if done.returncode != 0 or not pid_text.isdigit():
        raise StackError(f"could not start {argv[0]}: {done.stderr.strip() or pid_text}")
    pid = int(pid_text)
    _wait_for_exec(pid, argv[0])
    return pid


def _wait_for_exec(pid: int, program: str, timeout: float = 5.0) -> None:
    """Until the forked shell child has exec'd ``program``, its command line is still ``sh``;
    wait it out so pidfile checks by command line never see the shell and call it dead."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return
        if cmdline.split(b"\0")[0] == program.encode():
            return
        time.sleep(0.01)


def wait_for_pidfile(pidfile: Path, command_marker: str, timeout: float = 10.0) -> int:
    """For self-daemonising servers (redis-server, pg_ctl): the pidfile appears only after the
    launcher has exited, so wait for it before anything judges the server dead."""
    found: list[int] = []

    def attempt(_remaining: float) -> None:
        pid = live_pid(pidfile, command_marker)
        if pid is None:
            raise StackError(f"no live {command_marker} pid in {pidfile}")
        found.append(pid)

    poll(attempt, timeout, f"{command_marker} pidfile", interval=0.05)
    return found[0]


def write_pidfile(pidfile: Path, pid: int) -> None:
    """Write atomically so a concurrent reader never sees an empty pidfile."""
    tmp = pidfile.with_name(pidfile.name + ".tmp")
    tmp.write_text(f"{pid}\n")
    tmp.replace(pidfile)


def terminate(pid: int, what: str, log: Log, grace: float = 30.0) -> None:
    """SIGTERM, wait up to ``grace`` seconds for a clean shutdown, then SIGKILL."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.2)
    log(f"{what}: still running {grace:g} s after SIGTERM, sending SIGKILL to pid {pid}")
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    while pid_alive(pid):
        time.sleep(0.1)


def tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log file, minus Java stack frames, for error messages that explain
    *why* a start failed."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64_000))
            text = handle.read().decode(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    kept = [line for line in text.splitlines() if not _STACK_FRAME.match(line)]
    return "\n".join(kept[-lines:]) or "(log is empty)"


@contextlib.contextmanager
def exclusive_lock(path: Path, log: Log, holder: str = "another `up`/`down`") -> Iterator[None]:
    """Hold ``fcntl.flock`` on ``path`` so concurrent ``up``/``down`` runs take turns.

    The lock file's descriptor is not inheritable, so daemons we start do not keep it held.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"waiting for {holder} holding {path}…")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_atomically(target: Path, marker: str, build: Callable[[Path], None]) -> bool:
    """Create directory ``target`` once: build it beside, then rename it into place.

    An interrupted build (Ctrl-C during initdb, a failed download) leaves only a ``.partial``
    folder that the next attempt discards, never a half-made target. Returns False when
    ``target/marker`` already exists, i.e. nothing had to be built.
    """
    if (target / marker).exists():
        return False
    if target.exists():
        if any(target.iterdir()):
            raise StackError(f"{target} exists but has no {marker}; move it away and retry")
        target.rmdir()
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    build(partial)
    if not (partial / marker).exists():
        raise StackError(f"building {target} produced no {marker}")
    partial.rename(target)
    return True


_apt_updated = False


def apt_install(package: str, log: Log) -> None:
    """``apt-get install -y`` a Debian package, running ``apt-get update`` once per process."""
    global _apt_updated
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    if not _apt_updated:
        log(f"{package} is missing: apt-get update…")
        run(["apt-get", "update"], "apt-get update", env=env, timeout=600)
        _apt_updated = True
    log(f"installing {package} with apt-get…")
    run(["apt-get", "install", "-y", package], f"apt-get install {package}", env=env)


def require_command(command: str, apt_package: str, log: Log) -> str:
    """Path of ``command``, installing its Debian package first when it is missing."""
    found = shutil.which(command)
    if found:
        return found
    apt_install(apt_package, log)
    found = shutil.which(command)
    if not found:
        raise StackError(f"apt-get installed {apt_package} but {command} is still not on PATH")
    return found
