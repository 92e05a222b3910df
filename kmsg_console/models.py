"""Imports every feature's models so ``Base.metadata`` knows the whole schema.

Alembic's autogenerate and the schema test read the metadata from here; a feature that adds
a models module adds one import line below.
"""

from kmsg_console.alerts import models as alert_models  # noqa: F401
from kmsg_console.api_keys import models as api_key_models  # noqa: F401
from kmsg_console.audit import models as audit_models  # noqa: F401
from kmsg_console.campaigns import models as campaign_models  # noqa: F401
from kmsg_console.events import models as event_models  # noqa: F401
from kmsg_console.kakao_channels import models as kakao_channel_models  # noqa: F401
from kmsg_console.message_templates import models as message_template_models  # noqa: F401
from kmsg_console.operators import models as operator_models  # noqa: F401
from kmsg_console.opt_outs import models as opt_out_models  # noqa: F401
from kmsg_console.orm import Base
from kmsg_console.otp import models as otp_models  # noqa: F401
from kmsg_console.providers import models as provider_models  # noqa: F401
from kmsg_console.sender_numbers import models as sender_number_models  # noqa: F401
from kmsg_console.sending import models as send_log_models  # noqa: F401
from kmsg_console.settings import models as setting_models  # noqa: F401
from kmsg_console.throttle import models as throttle_models  # noqa: F401
from kmsg_console.worker import models as worker_models  # noqa: F401

metadata = Base.metadata
