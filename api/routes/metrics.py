"""`GET /metrics`: the Prometheus text format, computed from the rows at scrape time.

Outside the key scheme: a scraper is not a caller with an owner. Open unless
`METRICS_TOKEN` is set, then it needs that token as a bearer (see README "Monitoring").
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from sqlalchemy.orm import Session

from api.deps import db_session
from workers.db.base import utcnow
from workers.metrics.exposition import render
from workers.metrics.totals import CumulativeTotals
from workers.settings import get_settings

router = APIRouter(tags=["monitoring"])
# The classic text format every Prometheus reads (our names and labels need no escaping).
TEXT_FORMAT = CONTENT_TYPE_PLAIN_0_0_4


def scraper(authorization: Annotated[str | None, Header()] = None) -> None:
    token = get_settings().metrics_token
    if token is None or not token.get_secret_value():
        return
    expected = f"Bearer {token.get_secret_value()}".encode()
    if authorization is None or not hmac.compare_digest(authorization.encode(), expected):
        raise HTTPException(
            401, "GET /metrics needs the METRICS_TOKEN as a bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )  # fmt: skip


def totals_of(request: Request) -> CumulativeTotals:
    """The process's running totals, made with the app (`api.app.create_app`)."""
    totals: CumulativeTotals = request.app.state.metric_totals
    return totals


@router.get(
    "/metrics",
    dependencies=[Depends(scraper)],  # before the session: a refused scrape touches no row
    response_class=Response,
    responses={200: {"content": {TEXT_FORMAT: {}}}},
)
def metrics(
    session: Annotated[Session, Depends(db_session)],
    totals: Annotated[CumulativeTotals, Depends(totals_of)],
) -> Response:
    """Counters and histograms of every ended job, jobs in flight, circuits and queue
    depths, in the Prometheus text format."""
    settings = get_settings()
    body = render(session, totals, now=utcnow(), top_keys=settings.metrics_top_keys)
    return Response(body, media_type=TEXT_FORMAT)
