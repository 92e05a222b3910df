"""App factory: one WSGI app serving every vendor simulator plus the control API."""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from . import (
    aligo_kakao,
    aligo_kakao_api,
    aligo_kakao_channels,
    aligo_kakao_messages,
    aligo_sms,
    aligo_tokens,
    control,
    iwinv_alimtalk,
    iwinv_sms,
    iwinv_templates,
    solapi,
    solapi_blocks,
    solapi_channels,
    solapi_kakao,
    solapi_senders,
)
from .common import json_response
from .faults import VendorErrorFactory, install_fault_hooks
from .options import VENDOR_LABELS, VENDOR_PREFIXES, SimulatorOptions, vendor_for_path
from .state import EXTENSION_KEY, SimulatorState

#: vendor -> builder of that vendor's realistic error body (used by ``vendor_error`` faults)
VENDOR_ERRORS: dict[str, VendorErrorFactory] = {
    "solapi": solapi.vendor_error,
    "iwinv_alimtalk": iwinv_alimtalk.vendor_error,
    "iwinv_sms": iwinv_sms.vendor_error,
    "aligo_sms": aligo_sms.vendor_error,
    "aligo_kakao": aligo_kakao_api.vendor_error,
}


def credentials(options: SimulatorOptions) -> dict[str, str]:
    """What a client of each vendor needs, as shown on the banner and the index page."""
    return {
        "solapi": f"apiKey={options.solapi_api_key} apiSecret={options.solapi_api_secret} "
        f"pfId={options.solapi_pf_id}",
        "iwinv_alimtalk": f"apiKey={options.iwinv_api_key}",
        "iwinv_sms": f"smsApiKey={options.iwinv_sms_api_key} "
        f"smsAuthKey={options.iwinv_sms_auth_key} companyId={options.iwinv_sms_company_id}",
        "aligo_sms": f"key={options.aligo_api_key} user_id={options.aligo_user_id}",
        "aligo_kakao": f"apikey={options.aligo_api_key} userid={options.aligo_user_id} "
        f"senderkey={options.aligo_sender_key}",
    }


def describe(base_url: str, options: SimulatorOptions) -> str:
    """Plain-text overview of the base URLs and demo credentials."""
    creds = credentials(options)
    lines = [
        f"{VENDOR_LABELS[v]:<15}{base_url}{p:<18} {creds[v]}" for v, p in VENDOR_PREFIXES.items()
    ]
    lines.append(f"{'Control API':<15}{base_url}/_control/")
    lines.append(
        f"Registered senders: {', '.join(options.sender_numbers)}; "
        f"approved demo template: {options.demo_template_code} = {options.demo_template_content!r}"
    )
    return "\n".join(lines)


def create_simulator_app(options: SimulatorOptions | None = None) -> Flask:
    """Build the simulator WSGI app; each vendor API lives under its own path prefix."""
    options = options or SimulatorOptions()
    app = Flask(__name__, static_folder=None)
    # Vendors document trailing slashes (IWINV/Aligo); accept either form without a redirect,
    # and let tests check the exact wire path in the recorded requests instead.
    app.url_map.strict_slashes = False
    state = SimulatorState(options)
    state.seeders.extend(
        [
            solapi_channels.seed,
            solapi_kakao.seed,
            solapi_senders.seed,
            iwinv_templates.seed,
            aligo_kakao_channels.seed,
            aligo_kakao.seed,
        ]
    )
    state.reset()
    app.extensions[EXTENSION_KEY] = state
    install_fault_hooks(app, state, VENDOR_ERRORS)
    for blueprint in (
        solapi.bp,
        solapi_blocks.bp,
        solapi_channels.bp,
        solapi_kakao.bp,
        solapi_senders.bp,
        iwinv_alimtalk.bp,
        iwinv_templates.bp,
        iwinv_sms.bp,
        aligo_sms.bp,
        aligo_tokens.bp,
        aligo_kakao_channels.bp,
        aligo_kakao.bp,
        aligo_kakao_messages.bp,
        control.bp,
    ):
        app.register_blueprint(blueprint)

    @app.get("/")
    def index() -> Response:
        text = (
            "kmsg-console vendor simulators\n\n"
            + describe(request.host_url.rstrip("/"), options)
            + "\n"
        )
        return Response(text, content_type="text/plain; charset=utf-8")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        # JSON instead of Flask's HTML pages, so clients parsing vendor JSON see what happened.
        found = vendor_for_path(request.path)
        payload = {
            "error": exc.name,
            "status": exc.code,
            "path": request.path,
            "vendor": found[0] if found else None,
        }
        if found and found[0] == "solapi":
            payload = {
                "errorCode": exc.name.replace(" ", ""),
                "errorMessage": f"{exc.name}: {request.path}",
            }
        return json_response(payload, exc.code or 500)

    return app
