"""Message templates: SMS/LMS texts and Kakao AlimTalk templates under vendor review.

The app factory makes :func:`sends.resolve_template` the send engine's template look-up
(``sending.use_template_resolver``), so ALIMTALK sends (API, console, OTP) find only
approved templates.
"""

from kmsg_console.message_templates.views import bp

__all__ = ["bp"]
