"""Throttle policies: rate rules, safe/block lists and the decision engine behind them.

The OTP and send code calls :func:`kmsg_console.throttle.engine.check_and_consume`; the
console edits the policies under ``/throttle-policies``.
"""

from kmsg_console.throttle.views import bp

__all__ = ["bp"]
