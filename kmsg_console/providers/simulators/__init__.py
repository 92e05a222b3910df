"""Local simulators of the SOLAPI, IWINV and Aligo HTTP APIs for tests, demos and benchmarks.

One WSGI app serves every vendor under its own prefix (``/solapi``, ``/iwinv/alimtalk``,
``/iwinv/sms``, ``/aligo/sms``, ``/aligo/kakao``), each usable as that vendor's base URL,
plus a loopback-only control API under ``/_control/`` for recorded requests, fault
injection, delivery statuses and template review.

Entry points:

* :func:`create_simulator_app` - the Flask app (mount it anywhere);
* :func:`run_simulators` - blocking server for ``kmsg-console fake-providers``;
* :class:`SimulatorServer` - background server for tests, with ``.control``.
"""

from .app import create_simulator_app
from .client import ControlError, SimulatorControl
from .options import VENDOR_PREFIXES, SimulatorOptions
from .server import SimulatorServer, run_simulators

__all__ = [
    "VENDOR_PREFIXES",
    "ControlError",
    "SimulatorControl",
    "SimulatorOptions",
    "SimulatorServer",
    "create_simulator_app",
    "run_simulators",
]
