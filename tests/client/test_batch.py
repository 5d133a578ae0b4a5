"""`batch`: many jobs in one call, watched until every item ended."""

from __future__ import annotations

import pytest

from abstrakt import AbstraktClient, BatchStatus, InvalidRequestError

pytestmark = pytest.mark.e2e


def tile(i: int) -> tuple[str, dict[str, object]]:
    return ("local/image", {"input": {"prompt": f"tile {i}", "resolution": "480p"}, "cache": False})


def test_a_batch_runs_every_item_and_reports_progress(sdk: AbstraktClient) -> None:
    seen: list[dict[str, int]] = []
    done = sdk.batch([tile(i) for i in range(6)], on_progress=lambda s: seen.append(s.counts))
    assert isinstance(done, BatchStatus)
    assert done.done
    assert done.counts == {"succeeded": 6}
    assert [item["index"] for item in done.items] == list(range(6))
    succeeded = [counts.get("succeeded", 0) for counts in seen]
    assert succeeded == sorted(succeeded)
    assert succeeded[-1] == 6


def test_an_invalid_item_refuses_the_batch_naming_it(sdk: AbstraktClient) -> None:
    items: list[tuple[str, dict[str, object]]] = [
        tile(0),
        ("local/image", {"input": {"prompt": ""}}),
    ]
    with pytest.raises(InvalidRequestError, match=r"items\.1\.input\.prompt|items.*1.*prompt"):
        sdk.submit_batch(items)


def test_a_batch_submission_retried_with_its_key_is_one_batch(sdk: AbstraktClient) -> None:
    first = sdk.submit_batch([tile(10)], idempotency_key="client-batch-once")
    again = sdk.submit_batch([tile(10)], idempotency_key="client-batch-once")
    assert first.id == again.id
    assert again.cancel().done


def test_a_batch_webhook_url_is_sent_and_vetted_like_a_jobs(sdk: AbstraktClient) -> None:
    """The URL reaches the server, which refuses a loopback receiver it was not told to
    trust: nothing is submitted."""
    with pytest.raises(InvalidRequestError, match="webhook_url"):
        sdk.submit_batch([tile(20)], webhook_url="http://127.0.0.1:9/hooks")
