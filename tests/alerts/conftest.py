"""Alerts reuse the send-log factories, the events receiver and the worker's provider routes."""

from tests.events.conftest import receiver  # noqa: F401  (fixtures)
from tests.send_logs.conftest import add_log  # noqa: F401
from tests.worker.conftest import route  # noqa: F401
