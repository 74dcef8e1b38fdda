"""The task declarations of the product, bound to Huey and the services by the wiring."""

from __future__ import annotations

from headshot.jobs.registry import TaskRegistry
from headshot.services.container import Services


def declare_jobs() -> TaskRegistry[Services]:
    """Server and workers must bind this same registry (Huey names tasks by registry name)."""
    jobs = TaskRegistry[Services]()
    jobs.add_maintenance("purge_expired_credentials", _purge_expired_credentials)
    return jobs


def _purge_expired_credentials(services: Services) -> None:
    services.maintenance.purge_expired_credentials()
