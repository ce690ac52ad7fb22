"""Call-back surveys (万人评窗口) for callers and window heads; the public rankings live in
views/rankings.py and are routed from here. Thin: parse → one service or selector → respond."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from approvals.exceptions import NotPermitted, StateConflict
from approvals.hall.choices import CallOutcome, Stars
from approvals.hall.models import Callback
from approvals.hall.selectors import callbacks as selectors
from approvals.hall.services import callbacks as services
from approvals.hall.services.callbacks import SUGGESTIONS_MAX
from approvals.hall.views import rankings
from approvals.hall.views.common import refused
from onemap.http import client_ip

SEED_MAX = 2**63 - 1




class DrawForm(forms.Form):
    division = forms.ChoiceField(label=gettext_lazy("Area"))
    name = forms.CharField(label=gettext_lazy("Name of the round"), max_length=100, required=False)
    period_start = forms.DateField(label=gettext_lazy("Finished from"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=gettext_lazy("Finished until"), widget=forms.DateInput(attrs={"type": "date"}))
    share = forms.DecimalField(label=gettext_lazy("Share per window (0–1)"), required=False, max_digits=4, decimal_places=3,
                               min_value=Decimal("0.001"), max_value=Decimal("1"),
                               help_text=gettext_lazy("e.g. 0.1 draws one in ten of each window's finished cases, at least one"))
    per_window = forms.IntegerField(label=gettext_lazy("Or a number per window"), required=False, min_value=1, max_value=10000)
    seed = forms.IntegerField(label=gettext_lazy("Random seed (optional)"), required=False, min_value=0, max_value=SEED_MAX,
                              help_text=gettext_lazy("The same seed over the same cases draws the same calls."))

    def __init__(self, *args, divisions, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.divisions = {d.code: d for d in divisions}
        self.fields["division"].choices = [(d.code, d.name) for d in divisions]

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("The period ends before it starts."))
        if (data.get("share") is None) == (data.get("per_window") is None) and "share" not in self.errors and "per_window" not in self.errors:
            self.add_error("share", _("Give either a share per window or a number per window, not both."))
        return data


class RecordForm(forms.Form):
    outcome = forms.ChoiceField(label=gettext_lazy("Outcome"), choices=[c for c in CallOutcome.choices if c[0] != CallOutcome.PENDING])
    stars = forms.TypedChoiceField(label=gettext_lazy("Satisfaction"), choices=[("", "—"), *Stars.choices], coerce=int,
                                   empty_value=None, required=False)
    suggestions = forms.CharField(label=gettext_lazy("Suggestions"), max_length=SUGGESTIONS_MAX, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    follow_up = forms.BooleanField(label=gettext_lazy("Needs follow-up"), required=False)


def _draw_form(request: HttpRequest, data=None) -> DrawForm:
    return DrawForm(data, divisions=selectors.caller_divisions(request.user), prefix="draw")


@login_required
@require_http_methods(["GET", "POST"])
def callback_rounds(request: HttpRequest) -> HttpResponse:
    """The caller's rounds and the form to draw a new one."""
    divisions = selectors.caller_divisions(request.user)
    if not divisions:
        return refused(request, status=403, message=_("The call-back surveys are for call-back surveyors."))
    form = _draw_form(request, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            division = form.divisions[data["division"]]
            name = data["name"] or _("Call-backs %(start)s – %(end)s") % {"start": data["period_start"], "end": data["period_end"]}
            try:
                round_ = services.callback_round_draw(
                    division=division, name=name, period_start=data["period_start"], period_end=data["period_end"],
                    share=data["share"], per_window=data["per_window"], seed=data["seed"], by=request.user, ip=client_ip(request))
            except NotPermitted as exc:
                return refused(request, status=403, message=str(exc))
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, _("Round drawn: %(n)d calls.") % {"n": round_.calls.count()})
                return redirect("hall-callback-round", pk=round_.pk)
    return render(request, "hall/callbacks.html", {"rounds": selectors.rounds_for(request.user), "form": form}, status=status)


@login_required
def callback_round(request: HttpRequest, pk: int) -> HttpResponse:
    """One round's calls: masked numbers, the caller's revealed ones, record forms."""
    if not selectors.caller_divisions(request.user):
        return refused(request, status=403, message=_("The call-back surveys are for call-back surveyors."))
    round_ = selectors.round_get(user=request.user, pk=pk)
    return _round_page(request, round_)


def _round_page(request: HttpRequest, round_, *, status: int = 200, form_for: int | None = None, form: RecordForm | None = None) -> HttpResponse:
    rows = selectors.round_calls(round_=round_, user=request.user)
    return render(request, "hall/callback_round.html", {
        "round": round_, "rows": rows, "record_form": RecordForm(), "failed_form": form, "failed_for": form_for,
        "may_call": services.is_caller_for(request.user, round_.division),
    }, status=status)


def _call(request: HttpRequest, pk: int, call_pk: int) -> tuple[object, Callback]:
    """The round (404 unless visible) and its call (404 for another round's call)."""
    round_ = selectors.round_get(user=request.user, pk=pk)
    return round_, get_object_or_404(Callback, pk=call_pk, round=round_)


@login_required
@require_POST
def callback_reveal(request: HttpRequest, pk: int, call_pk: int) -> HttpResponse:
    round_, call = _call(request, pk, call_pk)
    try:
        services.callback_reveal_phone(call=call, by=request.user, ip=client_ip(request))
    except NotPermitted as exc:
        return refused(request, status=403, message=str(exc))
    return redirect(f"{_round_path(round_.pk)}#call-{call.pk}")


def _round_path(pk: int) -> str:
    return reverse("hall-callback-round", args=[pk])


@login_required
@require_POST
def callback_record(request: HttpRequest, pk: int, call_pk: int) -> HttpResponse:
    round_, call = _call(request, pk, call_pk)
    form = RecordForm(request.POST)
    if not form.is_valid():
        if not services.is_caller_for(request.user, round_.division):
            return refused(request, status=403, message=_("Only a call-back surveyor of this area may record calls."))
        return _round_page(request, round_, status=400, form_for=call.pk, form=form)
    data = form.cleaned_data
    try:
        services.callback_record(call=call, by=request.user, outcome=data["outcome"], stars=data["stars"],
                                 suggestions=data["suggestions"], follow_up=data["follow_up"], ip=client_ip(request))
    except NotPermitted as exc:
        return refused(request, status=403, message=str(exc))
    except StateConflict as exc:
        return refused(request, status=409, message=str(exc))
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error(None, message)
        return _round_page(request, round_, status=400, form_for=call.pk, form=form)
    messages.success(request, _("Call recorded."))
    return redirect(f"{_round_path(round_.pk)}#call-{call.pk}")


@login_required
def callback_results(request: HttpRequest) -> HttpResponse:
    """A window head's call-back results for their window(s): no numbers, no names."""
    window_ids = selectors.headed_windows(request.user)
    if not window_ids:
        return refused(request, status=403, message=_("The call-back results are for the heads of windows."))
    return render(request, "hall/callback_results.html", {"calls": selectors.head_results(window_ids=window_ids)[:500]})


urlpatterns = [
    path("hall/callbacks/", callback_rounds, name="hall-callbacks"),
    path("hall/callbacks/results/", callback_results, name="hall-callback-results"),
    path("hall/callbacks/<int:pk>/", callback_round, name="hall-callback-round"),
    path("hall/callbacks/<int:pk>/calls/<int:call_pk>/reveal/", callback_reveal, name="hall-callback-reveal"),
    path("hall/callbacks/<int:pk>/calls/<int:call_pk>/record/", callback_record, name="hall-callback-record"),
    *rankings.urlpatterns,
]
