"""A job's cost: estimated when it is created, actual when it ends.

The estimate is what generating the request costs at the model's price
(`catalog.pricing.effective_price`), whether or not it ends up generated. The actual cost,
set by `ended.job_ended` in the transaction that ends the job, is decided so:

- a cache hit costs 0, and so does a job joined to an identical one in flight: nothing
  was generated for it (its leader's cost counts the generation once);
- a job that succeeded costs its output, measured on the stored file (a video's real
  duration, an image's real size), at the model's price; a model that makes more than
  asked, cut to the asked length by us, costs what it made (`pricing.price_job`);
- a failed or canceled job costs 0, unless the provider was billing it: the provider had
  finished (`submit_state` completed: the output existed and was charged, even if the
  job then failed fetching or storing it), or it had accepted the request and its price
  says it `charges_failures`. Then it costs what was asked for.

`cost_basis` always says how the latest figure was computed. Functions write the job row
and flush nothing; the caller's transaction carries them.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from workers.catalog.models import ModelSpec
from workers.catalog.pricing import MICRO, Cost, Output, effective_price, price_job
from workers.catalog.registry import get_model
from workers.errors import InvalidInput
from workers.job.models import Job
from workers.job.status import JobStatus, SubmitState

log = logging.getLogger(__name__)
ZERO = Decimal(0)


def set_estimate(job: Job, spec: ModelSpec) -> None:
    """Price a new job's canonical input; `job.input` must be set. A price that cannot
    apply (an override the API's start check did not see) leaves no estimate, not an
    error: the job itself is fine."""
    try:
        estimate = price_job(spec, job.input)
    except ValueError as exc:
        log.warning("cost.no_estimate model=%s reason=%s", spec.id, exc)
        job.cost_basis = f"no estimate: {exc}"
        return
    job.estimated_cost_micros = estimate.micros
    job.cost_basis = f"estimate: {estimate.basis}"


def estimate_usd(job: Job) -> float:
    """The job's estimated cost in dollars; 0 when it has none."""
    return (job.estimated_cost_micros or 0) / 1_000_000


def settle(job: Job) -> None:
    """Set the actual cost of a job that has just become terminal (once). Never raises for
    a price that cannot apply: the job must end all the same, with its estimate standing."""
    if job.actual_cost_micros is not None:
        return
    try:
        cost = actual_cost(job)
    except ValueError as exc:
        log.warning("cost.unpriced job_id=%s model=%s reason=%s", job.id, job.model, exc)
        cost = Cost(
            (job.estimated_cost_micros or 0) * MICRO,
            f"price could not apply ({exc}): the estimate stands",
        )
    job.actual_cost_micros = cost.micros
    job.cost_basis = cost.basis


def actual_cost(job: Job) -> Cost:
    """What the job cost, by the rules in this module's docstring."""
    if job.cache_hit:
        return Cost(ZERO, "cache hit: nothing was generated")
    if job.joined_job_id is not None:
        return Cost(ZERO, f"joined job {job.joined_job_id}: its generation is counted there")
    try:
        spec = get_model(job.model)
    except InvalidInput:
        log.warning("cost.unknown_model job_id=%s model=%s", job.id, job.model)
        return Cost(
            (job.estimated_cost_micros or 0) * MICRO,
            f"{job.model} is no longer in the catalog: the estimate stands",
        )
    status = job.job_status
    if status is JobStatus.SUCCEEDED:
        return price_job(spec, job.input, output_of(job.result))
    stage = job.submit_stage
    if stage is SubmitState.COMPLETED:
        billed = price_job(spec, job.input)
        return Cost(billed.usd, f"the provider finished before the job {status}: {billed.basis}")
    if stage is SubmitState.SUBMITTED and effective_price(spec).charges_failures:
        billed = price_job(spec, job.input)
        return Cost(
            billed.usd, f"{spec.provider} bills requests it accepted that {status}: {billed.basis}"
        )
    return Cost(ZERO, f"{status} before anything billable was generated: no charge")


def output_of(result: dict[str, Any] | None) -> Output | None:
    """The measured output in a job's stored result (`workers.job.run.output`)."""
    result = result or {}
    for kind in ("video", "audio"):
        media = result.get(kind)
        if isinstance(media, dict):
            duration = media.get("duration")
            return Output(
                seconds=float(duration) if duration is not None else None,
                width=media.get("width"),
                height=media.get("height"),
            )
    images = result.get("images")
    if isinstance(images, list) and images and isinstance(images[0], dict):
        # Each image of one request has the size asked; the first stands for all.
        return Output(
            width=images[0].get("width"), height=images[0].get("height"), count=len(images)
        )
    return None
