"""Forms of the register's pages: the clerk's registration (right + holders), certificate actions,
and the public verification."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from approvals.registry.choices import IdType, RightType
from approvals.registry.models import LAND_USE_CHOICES
from approvals.registry.services.registration import MAX_HOLDERS

CODE_SPLIT = re.compile(r"[\s,，、;；]+")


class RegistrationForm(forms.Form):
    right_type = forms.ChoiceField(label=_("Right type"), choices=RightType.choices)
    land_use = forms.ChoiceField(label=_("Use (GB/T 21010 class)"), choices=LAND_USE_CHOICES)
    term_start = forms.DateField(label=_("Term from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    term_end = forms.DateField(label=_("Term to"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                               help_text=_("Only for a termed right (state-owned or collective construction land)."))
    replaces = forms.CharField(label=_("Registered parcels this replaces (codes)"), required=False, max_length=19 * 20 + 40,
                               help_text=_("Parcel codes, separated by spaces or commas; they are retired and become the new parcel's predecessors."))

    def clean_replaces(self) -> list[str]:
        codes = [c for c in CODE_SPLIT.split(self.cleaned_data.get("replaces", "")) if c]
        bad = [c for c in codes if not re.fullmatch(r"[0-9]{12}[GJZ][ABSXCDEFHWY][0-9]{5}", c)]
        if bad:
            raise forms.ValidationError(_("Not a parcel code: %(codes)s") % {"codes": ", ".join(c[:19] for c in bad[:5])})
        return codes


class HolderForm(forms.Form):
    name = forms.CharField(label=_("Holder's name"), max_length=128, required=False)
    id_type = forms.ChoiceField(label=_("Identity document"), choices=IdType.choices, initial=IdType.RESIDENT_ID)
    id_number = forms.CharField(label=_("Identity number"), max_length=32, required=False)
    share = forms.DecimalField(label=_("Share"), max_digits=7, decimal_places=6, required=False,
                               validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))])

    def has_content(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return bool(data.get("name") or data.get("id_number") or data.get("share") is not None)


HolderFormSet = forms.formset_factory(HolderForm, extra=3, max_num=MAX_HOLDERS, absolute_max=MAX_HOLDERS, validate_max=True)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))


class VerifyForm(forms.Form):
    number = forms.CharField(label=_("Certificate number"), max_length=64, strip=True,
                             widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "size": 36}))
    code = forms.CharField(label=_("Verification code"), max_length=32, strip=True,
                           widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}))
