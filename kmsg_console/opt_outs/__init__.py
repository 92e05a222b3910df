"""The opt-out list (수신거부): numbers that must not receive advertising."""

from kmsg_console.opt_outs.views import bp

__all__ = ["bp"]
