"""Providers pointing at the vendor simulators, as the template tests set them up."""

from tests.message_templates.conftest import actor, ctx, providers  # noqa: F401
