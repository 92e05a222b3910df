"""The console's navigation: one list, read by the base layout."""

from __future__ import annotations

from dataclasses import dataclass

from kmsg_console.i18n_markers import N_
from kmsg_console.operators.models import Role


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    role: Role


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("dashboard.index", N_("Dashboard"), Role.VIEWER),
    NavItem("placeholders.send_logs", N_("Send logs"), Role.VIEWER),
    NavItem("placeholders.send", N_("Send"), Role.OPERATOR),
    NavItem("placeholders.otp", N_("OTP"), Role.OPERATOR),
    NavItem("placeholders.templates", N_("Templates"), Role.VIEWER),
    NavItem("placeholders.throttle_policies", N_("Throttle policies"), Role.OPERATOR),
    NavItem("providers.list_providers", N_("Providers"), Role.ADMIN),
    NavItem("api_keys.list_keys", N_("API keys"), Role.ADMIN),
    NavItem("operators.list_operators", N_("Operators"), Role.ADMIN),
    NavItem("audit.list_events", N_("Audit log"), Role.ADMIN),
)
