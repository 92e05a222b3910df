"""Message templates: SMS/LMS texts and Kakao AlimTalk templates under vendor review.

Importing the package installs :func:`sending.resolve_template` as the send pipeline's
template resolver, so ALIMTALK sends (API, console, OTP) find only approved templates.
"""

from kmsg_console.message_templates import sending
from kmsg_console.message_templates.views import bp
from kmsg_console.send_logs import pipeline

pipeline.template_resolver = sending.resolve_template

__all__ = ["bp"]
