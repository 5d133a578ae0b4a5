"""The embedded default's broker: a consumer sees a whole message or none."""

from __future__ import annotations

from pathlib import Path
from queue import Empty

import pytest
from kombu.connection import Connection

from workers import broker_filesystem


def connection(folder: Path) -> Connection:
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder)}
    return Connection(broker_filesystem.register(), transport_options=options)


def test_a_sent_message_appears_whole_under_its_final_name(tmp_path: Path) -> None:
    with connection(tmp_path) as conn:
        channel = conn.default_channel
        channel._put("jobs", {"body": "x" * 10_000})
        files = list(tmp_path.iterdir())
        assert [f.name.endswith(".jobs.msg") for f in files] == [True]
        assert files[0].stat().st_size > 10_000
        assert channel._get("jobs") == {"body": "x" * 10_000}


def test_a_message_still_being_written_is_never_taken(tmp_path: Path) -> None:
    (tmp_path / "1_abc.jobs.msg.partial").write_bytes(b"")  # a send under way
    with connection(tmp_path) as conn, pytest.raises(Empty):
        conn.default_channel._get("jobs")
    assert (tmp_path / "1_abc.jobs.msg.partial").exists()
