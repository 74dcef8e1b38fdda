"""A faithful fal.ai HTTP test double (see FAL.md): queue, storage, webhooks, faults."""

from tests.fal_double.core import ADMIN_KEY, API_KEY
from tests.fal_double.faults import Fault, FaultPlan
from tests.fal_double.server import FalDouble
from tests.fal_double.state import GENERATOR, TRAINER, DoubleClock, Pace
from tests.fal_double.wire import ReceivedRequest, UploadRecord, WebhookDelivery

__all__ = [
    "ADMIN_KEY",
    "API_KEY",
    "GENERATOR",
    "TRAINER",
    "DoubleClock",
    "FalDouble",
    "Fault",
    "FaultPlan",
    "Pace",
    "ReceivedRequest",
    "UploadRecord",
    "WebhookDelivery",
]
