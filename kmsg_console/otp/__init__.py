"""OTP verifications: purposes, the engine, and the test-OTP console (``/otp``)."""

from kmsg_console.otp.views import bp

__all__ = ["bp"]
