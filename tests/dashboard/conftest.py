"""The send-log factories (rows written directly, with exact times and codes) serve here too."""

from tests.send_logs.conftest import add_log, add_provider  # noqa: F401  (fixtures)
