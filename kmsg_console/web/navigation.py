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
    #: Other pages the item stands for (marked current there too), e.g. each settings page.
    also: tuple[str, ...] = ()

    def is_current(self, endpoint: str | None) -> bool:
        return endpoint == self.endpoint or endpoint in self.also


#: The console-wide settings pages, reached through the settings overview (one nav item).
SETTINGS_PAGES: tuple[str, ...] = (
    "settings.sending_rules",
    "advertising.settings",
    "alerts.settings",
    "retention.edit_retention",
)


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("dashboard.index", N_("Dashboard"), Role.VIEWER),
    NavItem("send_logs.list_logs", N_("Send logs"), Role.VIEWER),
    NavItem("manual_send.compose", N_("Send"), Role.OPERATOR),
    NavItem("campaigns.list_campaigns", N_("Campaigns"), Role.VIEWER),
    NavItem("otp.console", N_("OTP"), Role.OPERATOR),
    NavItem("message_templates.list_templates", N_("Templates"), Role.VIEWER),
    NavItem("sender_numbers.list_numbers", N_("Sender numbers"), Role.VIEWER),
    NavItem("opt_outs.list_opt_outs", N_("Opt-outs"), Role.VIEWER),
    NavItem("kakao_channels.list_profiles", N_("Kakao profiles"), Role.VIEWER),
    NavItem("throttle.list_policies", N_("Throttle policies"), Role.OPERATOR),
    NavItem("providers.list_providers", N_("Providers"), Role.ADMIN),
    NavItem("api_keys.list_keys", N_("API keys"), Role.ADMIN),
    NavItem("webhook_endpoints.list_endpoints", N_("Webhooks"), Role.ADMIN),
    NavItem("operators.list_operators", N_("Operators"), Role.ADMIN),
    NavItem("audit.list_events", N_("Audit log"), Role.ADMIN),
    NavItem("settings.index", N_("Settings"), Role.ADMIN, also=SETTINGS_PAGES),
)
