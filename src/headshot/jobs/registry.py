"""Tasks declared without a Huey instance, bound later to one Huey and one context.

    jobs = TaskRegistry[Services]()

    @jobs.task(retry=RetryPolicy(retries=5, delay_s=10, backoff=2))
    def validate_photo(services: Services, photo_id: str) -> None: ...

    @jobs.maintenance("retention")
    def purge_expired(services: Services) -> None: ...

    bound = jobs.bind(huey, services)          # in the wiring, server and worker alike
    bound[validate_photo]("ph_123")             # typed: (photo_id: str) -> task id
    bound[validate_photo].later(30)("ph_123")   # run no sooner than 30 s from now

Huey knows each task as `<namespace>.<name>`, so the server and the worker must bind the same
registry; renaming a task strands messages already queued under the old name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar

from huey import Huey, crontab
from huey import signals as huey_signals
from huey.utils import normalize_time

log = logging.getLogger(__name__)

C = TypeVar("C")
P = ParamSpec("P")
MaintenanceCallback = Callable[[C], object]
# Called once a task's last retry has failed: (context, the task's arguments, the error).
GiveUp = Callable[[C, tuple[Any, ...], BaseException], object]
MAINTENANCE_TASK = "maintenance_tick"


def every(minutes: int) -> Any:
    """A Huey crontab firing every `minutes` (which must divide 60)."""
    if not 1 <= minutes <= 60 or 60 % minutes:
        raise ValueError("every_minutes must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)")
    return crontab(minute=f"*/{minutes}" if minutes < 60 else "0")


@dataclass(frozen=True)
class RetryPolicy:
    """Huey retries: `retries` more attempts, the first after `delay_s`, each later delay
    multiplied by `backoff` (1 = constant)."""

    retries: int = 0
    delay_s: float = 0.0
    backoff: float = 1.0

    def huey_options(self) -> dict[str, Any]:
        backoff = self.backoff if self.backoff != 1.0 else 0  # huey: 0 means "no backoff"
        return {"retries": self.retries, "retry_delay": self.delay_s, "retry_backoff": backoff}


@dataclass(frozen=True)
class TaskRef(Generic[C, P]):
    """A declared task; `BoundTasks[ref]` gives the function that enqueues it."""

    name: str
    func: Callable[Concatenate[C, P], object]
    retry: RetryPolicy
    on_give_up: GiveUp[C] | None = None


@dataclass(frozen=True)
class _Periodic(Generic[C]):
    name: str
    func: Callable[[C], object]
    every_minutes: int
    retry: RetryPolicy


class Enqueuer(Generic[P]):
    """Enqueues one task; returns the Huey task id."""

    def __init__(self, huey: Huey, wrapper: Any, *, delay_s: float | None = None) -> None:
        self._huey = huey
        self._wrapper = wrapper
        self._delay_s = delay_s

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> str:
        eta = None
        if self._delay_s is not None:
            eta = normalize_time(None, self._delay_s, self._huey.utc)
        # Built directly rather than with `.s()`, which would swallow task kwargs named
        # `id`, `delay`, `timeout`, `priority`... as Huey options.
        task = self._wrapper.task_class(args, dict(kwargs), eta=eta)
        self._huey.enqueue(task)
        return str(task.id)

    def later(self, delay_s: float) -> Enqueuer[P]:
        return Enqueuer(self._huey, self._wrapper, delay_s=delay_s)


class TaskRegistry(Generic[C]):
    """Declarations of tasks, periodic tasks and maintenance callbacks over a context `C`."""

    def __init__(self, *, namespace: str = "headshot") -> None:
        self.namespace = namespace
        self._tasks: dict[str, TaskRef[C, Any]] = {}
        self._periodic: dict[str, _Periodic[C]] = {}
        self._maintenance: dict[str, MaintenanceCallback[C]] = {}

    def _claim(self, name: str) -> str:
        if name in self._tasks or name in self._periodic or name == MAINTENANCE_TASK:
            raise ValueError(f"task name {name!r} is already registered")
        return name

    def task(
        self,
        *,
        name: str | None = None,
        retry: RetryPolicy = RetryPolicy(),
        on_give_up: GiveUp[C] | None = None,
    ) -> Callable[[Callable[Concatenate[C, P], object]], TaskRef[C, P]]:
        """Declare a task. `on_give_up(context, args, error)` runs when its last retry fails, so
        the job it works on can be ended with a reason instead of looking busy for ever."""

        def declare(func: Callable[Concatenate[C, P], object]) -> TaskRef[C, P]:
            ref = TaskRef(self._claim(name or func.__name__), func, retry, on_give_up)
            self._tasks[ref.name] = ref
            return ref

        return declare

    def periodic(
        self, *, every_minutes: int, name: str | None = None, retry: RetryPolicy = RetryPolicy()
    ) -> Callable[[Callable[[C], object]], Callable[[C], object]]:
        """Run `func(context)` every `every_minutes` (a divisor of 60) in the consumer."""
        every(every_minutes)  # fail at declaration, not at bind

        def declare(func: Callable[[C], object]) -> Callable[[C], object]:
            key = self._claim(name or func.__name__)
            self._periodic[key] = _Periodic(key, func, every_minutes, retry)
            return func

        return declare

    def maintenance(self, name: str) -> Callable[[MaintenanceCallback[C]], MaintenanceCallback[C]]:
        """Add `callback(context)` to every maintenance tick."""

        def declare(callback: MaintenanceCallback[C]) -> MaintenanceCallback[C]:
            self.add_maintenance(name, callback)
            return callback

        return declare

    def add_maintenance(self, name: str, callback: MaintenanceCallback[C]) -> None:
        if name in self._maintenance:
            raise ValueError(f"maintenance callback {name!r} is already registered")
        self._maintenance[name] = callback

    def bind(self, huey: Huey, context: C, *, maintenance_every_minutes: int = 1) -> BoundTasks[C]:
        """Register every declared task on `huey`, each receiving `context` first."""
        return BoundTasks(
            huey,
            context,
            namespace=self.namespace,
            tasks=dict(self._tasks),
            periodic=list(self._periodic.values()),
            maintenance=self._maintenance,  # live: callbacks added after bind still run
            maintenance_every_minutes=maintenance_every_minutes,
        )


def run_isolated(callbacks: dict[str, MaintenanceCallback[C]], context: C) -> dict[str, bool]:
    """Call every callback; one raising is logged and does not stop the others."""
    outcome: dict[str, bool] = {}
    for name, callback in list(callbacks.items()):  # a snapshot: others may add meanwhile
        try:
            callback(context)
            outcome[name] = True
        except Exception:
            log.exception("maintenance callback %s failed", name, extra={"callback": name})
            outcome[name] = False
    return outcome


class BoundTasks(Generic[C]):
    """The registry's tasks registered on one Huey; index it with a `TaskRef` to enqueue."""

    def __init__(
        self,
        huey: Huey,
        context: C,
        *,
        namespace: str,
        tasks: dict[str, TaskRef[C, Any]],
        periodic: list[_Periodic[C]],
        maintenance: dict[str, MaintenanceCallback[C]],
        maintenance_every_minutes: int,
    ) -> None:
        self.huey = huey
        self.context = context
        self.maintenance_callbacks = maintenance
        self.namespace = namespace
        self._wrappers: dict[str, Any] = {}
        self._give_ups: dict[type, GiveUp[C]] = {}
        for ref in tasks.values():
            self._wrappers[ref.name] = self._register(ref.name, ref.func, ref.retry, None)
            if ref.on_give_up is not None:
                self._give_ups[self._wrappers[ref.name].task_class] = ref.on_give_up
        huey.signal(huey_signals.SIGNAL_ERROR)(self._on_error)
        for spec in periodic:
            schedule = every(spec.every_minutes)
            self._wrappers[spec.name] = self._register(spec.name, spec.func, spec.retry, schedule)
        self._wrappers[MAINTENANCE_TASK] = self._register(
            MAINTENANCE_TASK, self._tick, RetryPolicy(), every(maintenance_every_minutes)
        )

    def _register(
        self, name: str, func: Callable[..., object], retry: RetryPolicy, schedule: Any
    ) -> Any:
        context = self.context

        def run(*args: Any, **kwargs: Any) -> None:
            func(context, *args, **kwargs)

        # Huey's registry key is `<module>.<name>`: make it independent of where code lives.
        run.__module__ = self.namespace
        run.__name__ = run.__qualname__ = name
        options = {"name": name, **retry.huey_options()}
        if schedule is None:
            return self.huey.task(**options)(run)
        return self.huey.periodic_task(schedule, **options)(run)

    def _on_error(self, signal_name: str, task: Any, error: BaseException) -> None:
        """Huey reports every failed run; the last one (no retries left) ends the job."""
        del signal_name
        give_up = self._give_ups.get(type(task))
        if give_up is None or task.retries:
            return
        log.error("task %s gave up after its retries", task.name, extra={"task_id": task.id})
        try:
            give_up(self.context, tuple(task.args), error)
        except Exception:
            log.exception("could not end the job of task %s", task.id, extra={"task_id": task.id})

    def _tick(self, context: C) -> None:
        run_isolated(self.maintenance_callbacks, context)

    def __getitem__(self, ref: TaskRef[C, P]) -> Enqueuer[P]:
        return Enqueuer(self.huey, self._wrappers[ref.name])

    def run_maintenance(self) -> dict[str, bool]:
        """Run the maintenance callbacks now, in this thread (what the periodic tick does)."""
        return run_isolated(self.maintenance_callbacks, self.context)

    def huey_task(self, name: str) -> Any:
        """The underlying Huey task wrapper (e.g. to enqueue the maintenance tick in a test)."""
        return self._wrappers[name]
