"""Form fields the service hall adds to the new-application form (maps.forms.ApplicationForm):
the contact phone (everyone) and, for window clerks only, "on behalf of" (agent service, 代办)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from approvals.choices import AgentReason
from approvals.hall.phones import phone_clean
from approvals.hall.services.agent import NAME_MAX

AGENT_FIELDS = ("on_behalf_username", "on_behalf_name", "on_behalf_phone", "agent_reason")


def _phone(value: str) -> str:
    try:
        return phone_clean(value)
    except ValidationError as exc:
        raise forms.ValidationError(exc.messages[0], code="phone") from exc


class OnBehalfForm(forms.Form):
    """Mixed into the new-application form. Built with `agent_allowed` (the user is a window
    clerk): otherwise the agent fields do not exist, so a posted value is ignored."""

    AGENT_FIELDS = AGENT_FIELDS

    contact_phone = forms.CharField(label=_("Contact phone"), max_length=40, required=False,
                                    help_text=_("A mobile (11 digits) or a landline with its area code; the window calls it about this case."))
    on_behalf_username = forms.CharField(label=_("Existing applicant (username)"), max_length=150, required=False)
    on_behalf_name = forms.CharField(label=_("Or a new applicant: name"), max_length=NAME_MAX, required=False)
    on_behalf_phone = forms.CharField(label=_("New applicant's phone"), max_length=40, required=False)
    agent_reason = forms.ChoiceField(label=_("Reason for agent service"), choices=[("", "—"), *AgentReason.choices], required=False)

    def __init__(self, *args, agent_allowed: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.agent_allowed = agent_allowed
        if not agent_allowed:
            for name in AGENT_FIELDS:
                del self.fields[name]

    def clean_contact_phone(self) -> str:
        return _phone(self.cleaned_data.get("contact_phone", ""))

    def clean_on_behalf_phone(self) -> str:
        return _phone(self.cleaned_data.get("on_behalf_phone", ""))

    def clean(self) -> dict:
        data = super().clean()
        if not self.agent_allowed:
            return data
        username, name = data.get("on_behalf_username", "").strip(), data.get("on_behalf_name", "").strip()
        acting = username or name or data.get("on_behalf_phone") or data.get("agent_reason")
        if not acting:
            return data
        if username and name:
            self.add_error("on_behalf_name", _("Either an existing applicant or a new one, not both."))
        elif not username and not name:
            self.add_error("on_behalf_username", _("Give the applicant's existing username, or the name and phone for a new account."))
        elif name and not data.get("on_behalf_phone") and "on_behalf_phone" not in self.errors:
            self.add_error("on_behalf_phone", _("A new applicant account needs a contact phone."))
        if not data.get("agent_reason"):
            self.add_error("agent_reason", _("Say why the case is carried for the applicant."))
        return data

    @property
    def agent_fields(self) -> list:
        return [self[name] for name in AGENT_FIELDS if name in self.fields]

    @property
    def on_behalf(self) -> dict | None:
        """Whom the clerk acts for (arguments of applicant_for_agent), or None for oneself."""
        if not self.agent_allowed:
            return None
        data = self.cleaned_data
        if data.get("on_behalf_username", "").strip():
            return {"username": data["on_behalf_username"].strip()}
        if data.get("on_behalf_name", "").strip():
            return {"name": data["on_behalf_name"].strip(), "phone": data.get("on_behalf_phone", "")}
        return None

    @property
    def phone_for_case(self) -> str:
        """The case's contact phone: as given, else the new applicant's."""
        return self.cleaned_data.get("contact_phone") or self.cleaned_data.get("on_behalf_phone", "") or ""
