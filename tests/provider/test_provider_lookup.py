"""`find_submission` against the emulator: a crashed worker finds the request it submitted
but never recorded, and is told "none" only when there truly is none."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from emulator import replicate as replicate_emulator
from emulator.testing import EmulatorServer
from tests.provider.conftest import model_input
from workers.errors import PermanentProviderError, RetryableProviderError
from workers.provider.base import FindsSubmissions

MakeAdapter = Callable[..., Any]
NORMALIZED = {"prompt": "a heron in the rain", "duration": 4.0}
# A model of the same provider that the lookups must not confuse with the default one.
OTHER_MODEL = {"replicate": "acme/other-video", "openai": "sora-2-pro"}


@pytest.fixture(params=["replicate", "openai"])
def lookup_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def submit(adapter: Any, model: str, **changes: Any) -> tuple[dict[str, Any], Any]:
    payload = adapter.build_payload(model, model_input(model, {**NORMALIZED, **changes}))
    return payload, adapter.submit(model, payload)


class TestFindSubmission:
    def test_finds_the_submission_without_submitting(
        self,
        lookup_name: str,
        make_adapter: MakeAdapter,
        default_model: dict[str, str],
        emulator: EmulatorServer,
    ) -> None:
        adapter = make_adapter(lookup_name)
        model = default_model[lookup_name]
        intent_at = datetime.now(UTC)
        payload, sub = submit(adapter, model)

        found = adapter.find_submission(model, payload, created_after=intent_at)

        assert found == sub  # same id, same handles as submit returned
        assert emulator.ctx.store.submissions.total() == 1

    def test_different_prompt_finds_nothing(
        self, lookup_name: str, make_adapter: MakeAdapter, default_model: dict[str, str]
    ) -> None:
        adapter = make_adapter(lookup_name)
        model = default_model[lookup_name]
        intent_at = datetime.now(UTC)
        submit(adapter, model)
        other = adapter.build_payload(
            model, model_input(model, {**NORMALIZED, "prompt": "a heron in the sun"})
        )

        assert adapter.find_submission(model, other, created_after=intent_at) is None

    def test_other_model_finds_nothing(
        self, lookup_name: str, make_adapter: MakeAdapter, default_model: dict[str, str]
    ) -> None:
        adapter = make_adapter(lookup_name)
        intent_at = datetime.now(UTC)
        submit(adapter, default_model[lookup_name])
        other_model = OTHER_MODEL[lookup_name]
        payload = adapter.build_payload(other_model, model_input(other_model, NORMALIZED))

        assert adapter.find_submission(other_model, payload, created_after=intent_at) is None

    def test_submission_before_created_after_is_not_found(
        self, lookup_name: str, make_adapter: MakeAdapter, default_model: dict[str, str]
    ) -> None:
        adapter = make_adapter(lookup_name)
        model = default_model[lookup_name]
        payload, sub = submit(adapter, model)
        later = datetime.now(UTC) + timedelta(hours=1)

        assert adapter.find_submission(model, payload, created_after=later) is None
        # Within the clock-skew allowance a slightly late `created_after` still finds it.
        slightly_late = datetime.now(UTC) + timedelta(seconds=30)
        assert adapter.find_submission(model, payload, created_after=slightly_late) == sub

    def test_earliest_of_identical_submissions(
        self, lookup_name: str, make_adapter: MakeAdapter, default_model: dict[str, str]
    ) -> None:
        adapter = make_adapter(lookup_name)
        model = default_model[lookup_name]
        intent_at = datetime.now(UTC)
        payload, first = submit(adapter, model)
        _, second = submit(adapter, model)
        assert first.request_id != second.request_id

        assert adapter.find_submission(model, payload, created_after=intent_at) == first

    def test_reads_past_the_first_page(
        self, lookup_name: str, make_adapter: MakeAdapter, default_model: dict[str, str]
    ) -> None:
        adapter = make_adapter(lookup_name)
        model = default_model[lookup_name]
        intent_at = datetime.now(UTC)
        payload, sub = submit(adapter, model)
        if lookup_name == "openai":
            adapter.list_page_size = 2
            newer = 5  # the target sits on the third page
        else:
            newer = replicate_emulator.PAGE_SIZE  # Replicate's page size is fixed
        for i in range(newer):
            submit(adapter, model, prompt=f"filler {i}")
        lists: list[httpx.URL] = []
        adapter.http.client.event_hooks["request"].append(lambda r: lists.append(r.url))

        assert adapter.find_submission(model, payload, created_after=intent_at) == sub
        if lookup_name == "openai":
            assert ["after" in url.params for url in lists] == [False, True, True]
        else:  # the second page came from `next`, still filtered by creation time
            assert ["created_after" in url.params for url in lists] == [True, True]

    def test_wrong_key_is_an_error(
        self, lookup_name: str, make_adapter: MakeAdapter, default_model: dict[str, str]
    ) -> None:
        adapter = make_adapter(lookup_name, key="wrong-key")
        model = default_model[lookup_name]
        payload = adapter.build_payload(model, model_input(model, NORMALIZED))

        with pytest.raises(PermanentProviderError) as caught:
            adapter.find_submission(model, payload, created_after=datetime.now(UTC))
        assert caught.value.code == "provider_auth"

    def test_unreadable_list_is_an_error_not_none(
        self,
        lookup_name: str,
        make_adapter: MakeAdapter,
        default_model: dict[str, str],
        configure: Callable[..., None],
    ) -> None:
        adapter = make_adapter(lookup_name)
        model = default_model[lookup_name]
        intent_at = datetime.now(UTC)
        payload, _ = submit(adapter, model)
        configure(fault_rate=1.0, faults=["503"])

        with pytest.raises(RetryableProviderError):
            adapter.find_submission(model, payload, created_after=intent_at)

    def test_naive_created_after_is_refused(
        self, lookup_name: str, make_adapter: MakeAdapter, default_model: dict[str, str]
    ) -> None:
        adapter = make_adapter(lookup_name)
        model = default_model[lookup_name]
        payload = adapter.build_payload(model, model_input(model, NORMALIZED))

        with pytest.raises(ValueError, match="timezone-aware"):
            adapter.find_submission(model, payload, created_after=datetime.now())


class TestReplicateVersionedModel:
    def test_version_must_match(self, make_adapter: MakeAdapter) -> None:
        adapter = make_adapter("replicate")
        pinned = "acme/video-model:" + "a" * 64
        intent_at = datetime.now(UTC)
        payload, sub = submit(adapter, pinned)

        assert adapter.find_submission(pinned, payload, created_after=intent_at) == sub
        other = "acme/video-model:" + "b" * 64
        assert adapter.find_submission(other, payload, created_after=intent_at) is None


class TestCapability:
    @pytest.mark.parametrize(
        ("name", "finds"),
        [("replicate", True), ("openai", True), ("fal", False), ("gemini", False)],
    )
    def test_only_providers_with_a_list_endpoint(
        self, make_adapter: MakeAdapter, name: str, finds: bool
    ) -> None:
        assert isinstance(make_adapter(name), FindsSubmissions) is finds
