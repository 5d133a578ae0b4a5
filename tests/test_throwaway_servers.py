"""scripts/throwaway_servers.py: what counts as a server answering, and a throwaway pair's life.

CI always has its own servers, so `scripts/test` never starts throwaway ones there: the last
test starts a pair (the machine's binaries where present; about a second) so that path keeps
working.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from scripts import throwaway_servers as ts
from tests.conftest import ADMIN_URL, REDIS_BASE


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that is bound but not listening: a connection to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


def test_the_configured_servers_answer() -> None:
    assert ts.postgres_answers(ADMIN_URL)
    assert ts.redis_answers(REDIS_BASE)


def test_nothing_listening_is_no_answer(closed_port: int) -> None:
    assert not ts.postgres_answers(f"postgresql://postgres@127.0.0.1:{closed_port}/test")
    assert not ts.redis_answers(f"redis://127.0.0.1:{closed_port}")


def test_another_service_at_the_address_is_a_clear_error() -> None:
    redis_host, redis_port = ts.redis_address(REDIS_BASE)
    with pytest.raises(ts.ServerError, match="TEST_PG_ADMIN_URL"):
        # Redis waits for the rest of what it takes for a command: the connect timeout ends it.
        ts.postgres_answers(f"postgresql://postgres@{redis_host}:{redis_port}/test", timeout_s=2)
    pg_host, pg_port = ts.postgres_address(ADMIN_URL)
    with pytest.raises(ts.ServerError, match="TEST_REDIS_URL"):
        ts.redis_answers(f"redis://{pg_host}:{pg_port}")


def test_throwaway_servers_start_answer_and_stop(closed_port: int) -> None:
    nowhere = {
        "TEST_PG_ADMIN_URL": f"postgresql://postgres@127.0.0.1:{closed_port}/test",
        "TEST_REDIS_URL": f"redis://127.0.0.1:{closed_port}",
        "PATH": "",
    }
    with ts.servers_for_tests(nowhere) as env:
        pg_url, redis_url = env["TEST_PG_ADMIN_URL"], env["TEST_REDIS_URL"]
        assert pg_url != nowhere["TEST_PG_ADMIN_URL"]
        assert redis_url != nowhere["TEST_REDIS_URL"]
        assert ts.postgres_answers(pg_url)  # the `test` database exists: the URL names it
        assert ts.redis_answers(redis_url)
        with psycopg.connect(pg_url) as conn:
            assert conn.execute("SHOW fsync").fetchone() == ("off",)
        # No redis-cli on the PATH given: the one beside the server is put first.
        assert (Path(env["PATH"].split(os.pathsep)[0]) / "redis-cli").exists()
        run_dir = ts.RUNS_DIR / f"run-{os.getpid()}"
        assert (run_dir / "postgres" / "PG_VERSION").exists()
    assert not ts.postgres_answers(pg_url)
    assert not ts.redis_answers(redis_url)
    assert not run_dir.exists()
