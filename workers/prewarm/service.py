"""The only writer of the pre-generation list and its runs. Functions flush; the caller
commits (see `scheduler` for the entry points that own a transaction)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workers.cache import repository as cache_repository
from workers.cache.keys import SHARED, request_key
from workers.cache.models import CacheEntry
from workers.catalog.availability import availability
from workers.catalog.registry import get_model
from workers.catalog.validation import normalize_input
from workers.errors import FieldError, InvalidInput, NotFound
from workers.job.models import PREWARM_OWNER
from workers.job.state import intake
from workers.prewarm import repository
from workers.prewarm.models import Origin, PrewarmPrompt
from workers.prewarm.schemas import CacheState, PrewarmCreate, PrewarmFile, PrewarmRead
from workers.settings import get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Added:
    prompt: PrewarmPrompt
    created: bool  # False: the same canonical request was listed already


def add(
    session: Session, request: PrewarmCreate, *, owner: str, origin: Origin = Origin.MANUAL
) -> Added:
    """List a prompt on `owner`'s list, validated and normalized like a job. Raises
    `InvalidInput`. Idempotent: a request that means the same as one of the owner's listed
    ones returns that one.
    """
    spec = get_model(request.model)
    usable = availability(spec)
    if not usable.available:
        raise InvalidInput.at("model", msg=usable.reason or "unavailable")
    canonical = normalize_input(spec, request.input)
    key = request_key(spec.id, canonical)
    existing = repository.by_key(session, owner, key)
    if existing is not None:
        return Added(existing, created=False)
    prompt = PrewarmPrompt(
        owner=owner, model=spec.id, input=canonical, cache_key=key, origin=origin
    )
    session.add(prompt)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        session.expunge(prompt)  # a concurrent add of the same request won
        existing = repository.by_key(session, owner, key)
        if existing is None:
            raise
        return Added(existing, created=False)
    return Added(prompt, created=True)


def as_request(canonical: dict[str, Any]) -> dict[str, Any]:
    """A canonical input as request input again (an explicit size), so it can be
    re-validated against today's catalog and normalizes back to itself."""
    raw = {k: v for k, v in canonical.items() if k in ("prompt", "duration", "seed")}
    if "width" in canonical and "height" in canonical:
        raw["resolution"] = {"width": canonical["width"], "height": canonical["height"]}
    return raw


def remove(session: Session, prompt_id: int, *, owner: str) -> None:
    """Unlist one of `owner`'s prompts; its cached result stays until it expires. Raises
    `NotFound` (also for another owner's prompt)."""
    prompt = session.get(PrewarmPrompt, prompt_id)
    if prompt is None or prompt.owner != owner:
        raise NotFound(f"no pre-generation prompt with id {prompt_id}")
    session.delete(prompt)
    session.flush()


def load_yaml(session: Session, text: str, *, owner: str) -> list[Added]:
    """Add every prompt of a YAML document; all or nothing. Raises `InvalidInput` naming
    the item (`prompts.3.input.duration`)."""
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInput.at("file", msg=f"is not YAML: {exc}") from None
    if isinstance(data, list):
        data = {"prompts": data}
    try:
        parsed = PrewarmFile.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(
            [FieldError(loc=tuple(e["loc"]), msg=e["msg"]) for e in exc.errors()]
        ) from None
    added, errors = [], []
    for index, request in enumerate(parsed.prompts):
        try:
            added.append(add(session, request, owner=owner))
        except InvalidInput as exc:
            errors += [FieldError(loc=("prompts", index, *e.loc), msg=e.msg) for e in exc.errors]
    if errors:
        raise InvalidInput(errors)
    return added


def _state(entry: CacheEntry | None, now: datetime) -> CacheState:
    if entry is None:
        return CacheState(state="missing", expires_at=None)
    if entry.leader_job_id is not None:
        state = "generating"
    elif entry.is_fresh(now):
        state = "fresh"
    else:
        state = "expired" if entry.result is not None else "missing"
    return CacheState(state=state, expires_at=entry.expires_at)


def list_prompts(session: Session, now: datetime, *, owner: str) -> list[PrewarmRead]:
    """`owner`'s listed prompts with the state of each one's shared cache entry."""
    return _reads(session, repository.all_prompts(session, owner=owner), now)


def read(session: Session, prompt: PrewarmPrompt, now: datetime) -> PrewarmRead:
    return _reads(session, [prompt], now)[0]


def _reads(session: Session, prompts: Sequence[PrewarmPrompt], now: datetime) -> list[PrewarmRead]:
    entries = cache_repository.by_keys(session, [p.cache_key for p in prompts], SHARED)
    return [
        PrewarmRead(
            id=p.id,
            model=p.model,
            input=p.input,
            origin=p.origin,
            created_at=p.created_at,
            cache=_state(entries.get(p.cache_key), now),
        )
        for p in prompts
    ]


def add_most_requested(session: Session, now: datetime) -> int:
    """List the most requested prompts of the last `PREWARM_AUTO_DAYS` days; 0 when off."""
    settings = get_settings()
    if settings.prewarm_auto_top == 0:
        return 0
    popular = repository.most_requested(
        session,
        since=now - timedelta(days=settings.prewarm_auto_days),
        min_requests=settings.prewarm_auto_min_requests,
        limit=settings.prewarm_auto_top,
    )
    added = 0
    for model, input_ in popular:
        try:
            request = PrewarmCreate(model=model, input=as_request(input_))
            outcome = add(session, request, owner=PREWARM_OWNER, origin=Origin.AUTO)
        except InvalidInput as exc:  # e.g. a model retired since it was requested
            log.info("prewarm.auto_skipped model=%s reason=%s", model, exc)
            continue
        added += outcome.created
    return added


@dataclass(frozen=True)
class Started:
    jobs: list[tuple[uuid.UUID, int]]  # (job id, priority), to send after commit
    waiting: int  # due prompts beyond the in-flight cap


def start_due(session: Session, *, now: datetime, next_run: datetime) -> Started:
    """Add pre-generation jobs for listed prompts whose shared entry is missing or expires
    before `next_run` (plus the model's typical latency, so the next run has time), up to
    `PREWARM_MAX_IN_FLIGHT` queued or running at once. A prompt already being generated
    is skipped, and a prompt on several owners' lists is generated once. The caller sends
    the jobs' tasks after commit."""
    settings = get_settings()
    unique = {p.cache_key: p for p in reversed(repository.all_prompts(session))}
    prompts = sorted(unique.values(), key=lambda p: p.id)
    entries = cache_repository.by_keys(session, [p.cache_key for p in prompts], SHARED)
    due = []
    for prompt in prompts:
        entry = entries.get(prompt.cache_key)
        if entry is not None and entry.leader_job_id is not None:
            continue
        try:
            margin = timedelta(seconds=get_model(prompt.model).typical_latency_s)
        except InvalidInput:
            log.warning("prewarm.unknown_model prompt_id=%s model=%s", prompt.id, prompt.model)
            continue
        if entry is None or not entry.is_fresh(next_run + margin):
            due.append(prompt)
    room = max(0, settings.prewarm_max_in_flight - repository.active_jobs(session))
    jobs: list[tuple[uuid.UUID, int]] = []
    for prompt in due[:room]:
        try:
            job = intake.create_prewarm_job(
                session,
                model=prompt.model,
                input_=as_request(prompt.input),
                priority=settings.prewarm_priority,
            )
        except InvalidInput as exc:
            log.warning("prewarm.invalid_prompt prompt_id=%s reason=%s", prompt.id, exc)
            continue
        if job is not None:
            jobs.append((job.id, job.priority))
    return Started(jobs, waiting=max(0, len(due) - room))
