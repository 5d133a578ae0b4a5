"""schemathesis against the API in-process, with a key: whatever it sends, no answer is a
server error and every status is one the OpenAPI schema documents for that operation.

`MAX_EXAMPLES` cases per operation keep the run to about a minute on the CI's cores.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from api.app import create_app
from workers.settings import get_settings

MAX_EXAMPLES = 40

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())

pytestmark = pytest.mark.slow


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_error_and_no_undocumented_status(
    case: schemathesis.Case[Any], client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No worker runs here: the images wait would only ever time out (504, documented).
    monkeypatch.setattr(get_settings(), "openai_images_wait_s", 0.2)
    case.call_and_validate(
        session=client,  # type: ignore[arg-type]
        headers=dict(client.headers),
        checks=[not_a_server_error, status_code_conformance],
    )
