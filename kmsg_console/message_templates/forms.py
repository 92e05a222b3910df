"""Forms: the template editor (with up to five button rows), list filters, test send, review."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from kmsg_console.providers import services as provider_services
from kmsg_console.web.forms import choices

from . import vendors
from .models import (
    ButtonType,
    Category,
    EmphasisType,
    KakaoMessageType,
    MessageTemplate,
    ReviewStatus,
    TemplateKind,
)
from .validation import MAX_BUTTONS, Issue, TemplateData

BUTTON_LINKS = ("link_mobile", "link_pc", "link_ios", "link_android")


def provider_choices(blank: str) -> list:
    providers = [p for p in provider_services.all_providers() if vendors.supports_templates(p)]
    return choices([("", blank)] + [(p.code, f"{p.name} ({p.code})") for p in providers])


def _enum_choices(enum: Any, blank: str | None = None) -> list:
    pairs = [(member.value, _(member.label)) for member in enum]
    return choices(([("", blank)] if blank is not None else []) + pairs)


class ButtonForm(FlaskForm):
    """One button row (a sub-form: the parent carries the CSRF token)."""

    class Meta:
        csrf = False

    type = SelectField(
        _l("Button type"), choices=lambda: _enum_choices(ButtonType, _("No button")), default=""
    )
    name = StringField(_l("Button name"), validators=[Optional(), Length(max=40)])
    link_mobile = StringField(_l("Mobile link"), validators=[Optional(), Length(max=500)])
    link_pc = StringField(_l("PC link"), validators=[Optional(), Length(max=500)])
    link_ios = StringField(_l("iOS link"), validators=[Optional(), Length(max=500)])
    link_android = StringField(_l("Android link"), validators=[Optional(), Length(max=500)])


class TemplateForm(FlaskForm):
    kind = SelectField(
        _l("Message type"),
        choices=lambda: _enum_choices(TemplateKind),
        default=TemplateKind.ALIMTALK.value,
    )
    provider = SelectField(
        _l("Provider"), choices=lambda: provider_choices(_("No provider")), default=""
    )
    #: A registered profile of the chosen provider (``_sender_profile.html`` lists them;
    #: any other value is refused by ``services.check`` with a field error).
    sender_profile = SelectField(
        _l("Kakao sender profile"), validators=[Optional(), Length(max=64)], validate_choice=False
    )
    plus_id = StringField(_l("Channel id (@plusId)"), validators=[Optional(), Length(max=40)])
    name = StringField(_l("Template name"), validators=[Optional(), Length(max=100)])
    content = TextAreaField(_l("Text"), validators=[Optional(), Length(max=4000)])
    category = SelectField(
        _l("Category"), choices=lambda: _enum_choices(Category, _("No category")), default=""
    )
    category_code = StringField(_l("Kakao category code"), validators=[Optional(), Length(max=20)])
    message_type = SelectField(
        _l("Kakao message type"),
        choices=lambda: _enum_choices(KakaoMessageType),
        default=KakaoMessageType.BA.value,
    )
    emphasis_type = SelectField(
        _l("Emphasis"), choices=lambda: _enum_choices(EmphasisType), default=EmphasisType.NONE.value
    )
    emphasis_title = StringField(_l("Emphasized title"), validators=[Optional(), Length(max=50)])
    emphasis_subtitle = StringField(
        _l("Emphasized subtitle"), validators=[Optional(), Length(max=50)]
    )
    extra_info = TextAreaField(_l("Extra information"), validators=[Optional(), Length(max=500)])
    security_flag = BooleanField(_l("Security template (hide the text on PCs; for OTP codes)"))
    buttons = FieldList(FormField(ButtonForm), min_entries=MAX_BUTTONS, max_entries=MAX_BUTTONS)
    samples = TextAreaField(
        _l("Sample values for the preview"), validators=[Optional(), Length(max=2000)]
    )

    #: Problems that belong to no single field.
    general_errors: list[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.general_errors = []

    @classmethod
    def for_template(cls, template: MessageTemplate) -> TemplateForm:
        rows = [
            {
                "type": b.get("type", ""),
                "name": b.get("name", ""),
                **{k: b.get(k, "") for k in BUTTON_LINKS},
            }
            for b in template.buttons or []
        ]
        return cls(
            data={
                "kind": template.kind,
                "provider": template.provider.code if template.provider else "",
                "sender_profile": template.sender_profile or "",
                "plus_id": template.plus_id or "",
                "name": template.name,
                "content": template.content,
                "category": template.category or "",
                "category_code": template.category_code or "",
                "message_type": template.message_type,
                "emphasis_type": template.emphasis_type,
                "emphasis_title": template.emphasis_title or "",
                "emphasis_subtitle": template.emphasis_subtitle or "",
                "extra_info": template.extra_info or "",
                "security_flag": template.security_flag,
                "buttons": rows,
                "samples": "\n".join(f"{k}={v}" for k, v in (template.sample_values or {}).items()),
            }
        )

    def sample_values(self) -> dict[str, str]:
        """``name=value`` lines; blank and malformed lines are ignored."""
        values: dict[str, str] = {}
        for line in (self.samples.data or "").splitlines():
            name, sep, value = line.partition("=")
            if sep and name.strip():
                values[name.strip()] = value.strip()
        return values

    def to_data(self) -> TemplateData:
        """What was typed, stripped; button rows without a type and name are left out."""
        buttons = []
        for index, row in enumerate(self.buttons):
            values = {k: (row.form[k].data or "").strip() for k in ("type", "name", *BUTTON_LINKS)}
            if values["type"] or values["name"] or any(values[k] for k in BUTTON_LINKS):
                buttons.append(
                    {
                        **{k: v for k, v in values.items() if v},
                        "type": values["type"],
                        "name": values["name"],
                        "row": str(index),
                    }
                )
        text = (self.content.data or "").replace("\r\n", "\n")

        def clean(value: str | None) -> str | None:
            return (value or "").strip() or None

        return TemplateData(
            kind=self.kind.data or TemplateKind.ALIMTALK.value,
            name=(self.name.data or "").strip(),
            content=text,
            sender_profile=clean(self.sender_profile.data),
            plus_id=clean(self.plus_id.data),
            category=clean(self.category.data),
            category_code=clean(self.category_code.data),
            message_type=self.message_type.data or KakaoMessageType.BA.value,
            emphasis_type=self.emphasis_type.data or EmphasisType.NONE.value,
            emphasis_title=clean(self.emphasis_title.data),
            emphasis_subtitle=clean(self.emphasis_subtitle.data),
            extra_info=clean(self.extra_info.data),
            buttons=buttons,
            security_flag=bool(self.security_flag.data),
            sample_values=self.sample_values(),
        )

    def add_issues(self, issues: list[Issue]) -> None:
        """Show each problem next to its field (button rows by index)."""
        for issue in issues:
            message = _(issue.message, **issue.params)
            target = self._field_for(issue.field)
            if target is None:
                self.general_errors.append(message)
            else:
                target.errors = [*target.errors, message]

    def add_issues_where_clean(self, issues: list[Issue]) -> None:
        """Like :meth:`add_issues`, for fields the form's own validators left without errors."""
        self.add_issues(
            [i for i in issues if (f := self._field_for(i.field)) is not None and not f.errors]
        )

    def _field_for(self, name: str) -> Any:
        if name.startswith("buttons-"):
            _prefix, index, key = name.split("-", 2)
            if (
                index.isdigit()
                and int(index) < len(self.buttons.entries)
                and key in ("type", "name", *BUTTON_LINKS)
            ):
                return self.buttons.entries[int(index)].form[key]
            return None
        field = self._fields.get(name)
        return None if field is None or name == "buttons" else field


class FilterForm(FlaskForm):
    """List filters, read from the query string (GET: no CSRF)."""

    class Meta:
        csrf = False

    provider = SelectField(
        _l("Provider"), choices=lambda: provider_choices(_("All providers")), default=""
    )
    channel = StringField(_l("Channel"), validators=[Optional(), Length(max=64)])
    status = SelectField(
        _l("Status"), choices=lambda: _enum_choices(ReviewStatus, _("All statuses")), default=""
    )
    kind = SelectField(
        _l("Type"), choices=lambda: _enum_choices(TemplateKind, _("All types")), default=""
    )


class ReviewForm(FlaskForm):
    """The sandbox reviewer's decision."""

    comment = TextAreaField(_l("Reviewer's comment"), validators=[Optional(), Length(max=500)])


def apply_refusal(form: Any, exc: Any) -> None:
    """Show why the send engine refused a test send, translated, next to the right field."""
    cause = exc.__cause__
    fields = dict(form.variable_fields)
    for issue in getattr(cause, "issues", None) or ():
        names = str(issue.params.get("names", "")).split(", ")
        missing = [n for n in names if n in fields] if issue.code == "MISSING_VARIABLE" else []
        # The engine names every missing variable in one sentence; each field says its own,
        # once (the engine may report the same gap from more than one check).
        for name in missing:
            text = _("Enter a value for #{%(name)s}.", name=name)
            if text not in fields[name].errors:
                fields[name].errors = [*fields[name].errors, text]
        if not missing:
            text = _(issue.message, **dict(issue.params)) if issue.params else _(issue.message)
            form.to.errors = [*form.to.errors, text]
    if not getattr(cause, "issues", None):
        reason = (
            _("No enabled provider can send this message.")
            if exc.code == "no_provider"
            else exc.message
        )
        form.to.errors = [
            *form.to.errors,
            _("The message cannot be sent: %(reason)s", reason=reason),
        ]


def test_send_form(template: MessageTemplate, *, fresh: bool = False) -> FlaskForm:
    """A "send a test" form with one field per variable of ``template`` (``var_0``, ``var_1``...).

    ``fresh`` ignores the submitted values (the empty form shown after a successful send).
    """

    class TestSendForm(FlaskForm):
        to = StringField(
            _l("Recipient"),
            validators=[DataRequired(message=_l("Enter a mobile number.")), Length(max=32)],
        )

    names = list(template.variables or [])
    for index, name in enumerate(names):
        sample = (template.sample_values or {}).get(name)
        setattr(
            TestSendForm,
            f"var_{index}",
            StringField(
                name,
                validators=[Optional(), Length(max=200)],
                render_kw={"placeholder": sample} if sample else None,
            ),
        )
    form = TestSendForm(formdata=None) if fresh else TestSendForm()
    form.variable_fields = [(name, form[f"var_{index}"]) for index, name in enumerate(names)]
    return form
