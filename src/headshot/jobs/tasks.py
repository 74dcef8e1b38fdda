"""The task declarations of the product, bound to Huey and the services by the wiring. Each task
is one call into a service: the use cases live in `headshot.services`, not here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from huey import Huey

from headshot.jobs.registry import BoundTasks, RetryPolicy, TaskRegistry
from headshot.jobs.stale import requeue_stale
from headshot.observability.memory import release_free_memory
from headshot.services.container import Services

RETRY = RetryPolicy(retries=3, delay_s=5, backoff=2)
# What the person reads when a job's task kept failing on our side.
GAVE_UP = "Something went wrong on our side and we stopped trying. Please start it again."


def bind_jobs(huey: Huey, services: Services) -> BoundTasks[Services]:
    """Declare every task, bind them to `huey` and let the services enqueue them.

    Server and workers must bind the same declarations (Huey names tasks by registry name).
    """
    jobs = TaskRegistry[Services]()
    training = jobs.task(name="run_training", retry=RETRY, on_give_up=_end_training)(_run_training)
    generation = jobs.task(name="run_generation", retry=RETRY, on_give_up=_end_generation)(
        _run_generation
    )
    jobs.add_maintenance("purge_expired_credentials", _purge_expired_credentials)
    jobs.add_maintenance("requeue_stale_trainings", _requeue_stale_trainings)
    jobs.add_maintenance("requeue_stale_generations", _requeue_stale_generations)
    deletions = jobs.task(name="delete_provider_payloads", retry=RETRY)(_delete_provider_payloads)
    jobs.add_maintenance("provider_deletions", _delete_provider_payloads)
    jobs.add_maintenance("job_notices", _send_job_notices)
    jobs.periodic(every_minutes=60, name="enforce_retention")(_enforce_retention)
    jobs.periodic(every_minutes=60, name="rotate_provider_keys")(_rotate_provider_keys)
    bound = jobs.bind(huey, services)

    def enqueue_training(job_id: str, delay_s: float) -> object:
        return bound[training].later(delay_s)(job_id) if delay_s > 0 else bound[training](job_id)

    def enqueue_generation(job_id: str, delay_s: float) -> object:
        task = bound[generation]
        return task.later(delay_s)(job_id) if delay_s > 0 else task(job_id)

    services.queue.attach(training=enqueue_training, generation=enqueue_generation)
    services.erasure.attach(lambda: bound[deletions]())
    return bound


def _run_training(services: Services, training_id: str) -> None:
    runs, queue = services.training_runs, services.queue
    _run_step(services, "training", training_id, runs.run, queue.run_training)


def _run_generation(services: Services, generation_id: str) -> None:
    runs, queue = services.generation_runs, services.queue
    _run_step(services, "generation", generation_id, runs.run, queue.run_generation)


def _run_step(
    services: Services,
    kind: str,
    job_id: str,
    run: Callable[[str], object],
    enqueue: Callable[..., object],
) -> None:
    """One step of a job under its lease, which lets another worker resume the job within
    seconds if this one dies mid-step."""
    with services.job_leases.hold(kind, job_id) as held:
        if held:
            try:
                run(job_id)
            finally:
                release_free_memory()  # a local step's images are gone: give the pages back
            return
    # A step of this job runs elsewhere right now (a webhook and a poll at once, say): run this
    # one after it rather than beside it, and rather than drop it (the running step may have
    # just asked for it).
    enqueue(job_id, delay_s=services.settings.jobs.heartbeat_s)


def _end_training(services: Services, args: tuple[Any, ...], error: BaseException) -> None:
    del error  # logged by the registry; the person gets a plain sentence
    services.training_runs.give_up(str(args[0]), GAVE_UP)


def _end_generation(services: Services, args: tuple[Any, ...], error: BaseException) -> None:
    del error
    services.generation_runs.give_up(str(args[0]), GAVE_UP)


def _enforce_retention(services: Services) -> None:
    services.retention.run()


def _send_job_notices(services: Services) -> None:
    if services.job_notices is not None:
        services.job_notices.run()


def _rotate_provider_keys(services: Services) -> None:
    if services.key_rotation is not None:
        services.key_rotation.run()


def _delete_provider_payloads(services: Services) -> None:
    # Owed deletions live in their rows: a run lost with its worker is redone by the next tick.
    services.erasure.run_provider_deletions()


def _purge_expired_credentials(services: Services) -> None:
    services.maintenance.purge_expired_credentials()


def _requeue_stale_trainings(services: Services) -> None:
    # Huey forgets a task whose worker was SIGKILLed: the rows say what is still owed.
    runs = services.training_runs
    requeue_stale(
        find_stale=_not_leased(services, runs.stale),
        enqueue=services.queue.run_training,
        older_than=timedelta(seconds=services.settings.jobs.stale_after_s),
        clock=services.clock,
        touch=runs.touch,
    )


def _requeue_stale_generations(services: Services) -> None:
    runs = services.generation_runs
    requeue_stale(
        find_stale=_not_leased(services, runs.stale),
        enqueue=services.queue.run_generation,
        older_than=timedelta(seconds=services.settings.jobs.stale_after_s),
        clock=services.clock,
        touch=runs.touch,
    )


def _not_leased(
    services: Services, find_stale: Callable[[datetime], list[str]]
) -> Callable[[datetime], list[str]]:
    """`find_stale` without the jobs a live worker is running now (a long local step does not
    touch its row, yet is not lost)."""

    def find(cutoff: datetime) -> list[str]:
        live = services.job_leases.live()
        return [job_id for job_id in find_stale(cutoff) if job_id not in live]

    return find
