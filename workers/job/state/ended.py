"""A job finished: the one place that reacts to it.

`transitions.transition()` calls `job_ended()` inside the transaction of every terminal
move, whether the job succeeded, failed or was canceled, ran or was answered from the cache.
What reacts to a job's end is listed here, in order, and nowhere else:

1. the result cache settles the job's entry and its joined followers (`cache.settle`);
2. the job's actual cost replaces its estimate (`cost.settle`): its output's price, or 0
   for a hit, a joined job, or a failure the provider does not bill;
3. a preview job tells its video job what it produced (`preview.announce`);
4. a batch's job makes room for the batch's next item, and the batch's last job to end
   enqueues the batch's `completed` webhook (`workers.batch.release`);
5. the job's `completed` webhook, if it has one, gets its delivery row, sent after the
   commit (`webhook.enqueue.on_ended`): last, so its body carries the settled cost.

Live subscribers need no hook: the terminal event reaches them after the commit.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from workers.batch import release as batch_release
from workers.job.models import Job
from workers.job.state import (
    cache,  # a module import: cache → transitions → ended
    cost,
    preview,
)
from workers.webhook import enqueue as webhooks


def job_ended(session: Session, job: Job) -> None:
    """React to `job` having just become terminal; runs before its transaction commits."""
    cache.settle(session, job)
    cost.settle(job)
    preview.announce(session, job)
    batch_release.after_item_ended(session, job)
    webhooks.on_ended(session, job)
