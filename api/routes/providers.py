from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.deps import db_session
from workers.job import repository
from workers.provider.registry import HOSTED, missing_key
from workers.provider_health import circuit
from workers.settings import get_settings

router = APIRouter(prefix="/v1/providers", tags=["providers"])


class ProviderRead(BaseModel):
    name: str
    configured: bool
    missing_setting: str | None
    circuit: str
    opened_until: datetime | None
    consecutive_failures: int
    last_error: str | None
    in_flight: int
    concurrency_limit: int


@router.get("", response_model=list[ProviderRead])
def list_providers(session: Annotated[Session, Depends(db_session)]) -> list[ProviderRead]:
    """Each hosted provider: configured or not, its circuit breaker, its jobs in flight."""
    limit = get_settings().provider_concurrency
    providers = []
    for name in HOSTED:
        health = circuit.view(session, name)
        missing = missing_key(name)
        providers.append(
            ProviderRead(
                name=name,
                configured=missing is None,
                missing_setting=missing,
                circuit=health.circuit,
                opened_until=health.opened_until,
                consecutive_failures=health.consecutive_failures,
                last_error=health.last_error,
                in_flight=repository.in_flight(session, name),
                concurrency_limit=limit,
            )
        )
    return providers
