"""The public rankings (百企万民评窗口): no login, no personal data; a chart, tables and an XLSX
download. Rate-limited per client address like the other public pages."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from approvals.choices import Level
from approvals.hall.selectors import rankings as selectors
from approvals.hall.views.common import rate_limited
from maps.exports import export

# A custom period reaches back this far at most (bounds the work of one request).
MAX_DAYS = 3 * 366


class PeriodForm(forms.Form):
    period = forms.ChoiceField(label=gettext_lazy("Period"), choices=list(selectors.PERIOD_LABELS.items()), required=False)
    start = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict:
        data = super().clean()
        period = data.get("period") or "month"
        data["period"] = period
        if period == "custom":
            start, end = data.get("start"), data.get("end")
            if start is None or end is None:
                if not self.errors:
                    raise forms.ValidationError(_("Give both dates of the period."))
            elif end < start:
                raise forms.ValidationError(_("The period ends before it starts."))
            elif (end - start).days > MAX_DAYS:
                raise forms.ValidationError(_("Choose a period of at most three years."))
        elif "period" not in self.errors:
            data["start"], data["end"] = selectors.period_bounds(period)
        return data


def _pct(rate: float | None) -> float | str:
    return round(rate, 4) if rate is not None else ""


def _export(result: selectors.Rankings) -> HttpResponse:
    columns = [("table", _("Ranking")), ("group", _("Hall level")), ("rank", _("Rank")), ("label", _("Unit")),
               ("n_ratings", _("Ratings")), ("rating_rate", _("Rating satisfaction")), ("n_calls", _("Reached call-backs")),
               ("call_rate", _("Call-back satisfaction")), ("rate", _("Combined satisfaction")), ("note", _("Note"))]
    rows = []
    levels = dict(Level.choices)
    tables = [(str(_("Windows")) + (f" · {level}" if level else ""), items) for level, items in
              [("", result.windows), *result.windows_by_level.items()]]
    tables += [(str(_("Departments")), result.departments), (str(_("Officers")), result.officers)]
    for table, items in tables:
        for row in items:
            rows.append({"table": table, "group": str(levels.get(row.group, row.group)), "rank": row.rank if row.rank is not None else "", "label": row.label,
                         "n_ratings": row.n_ratings, "rating_rate": _pct(row.rating_rate), "n_calls": row.n_calls,
                         "call_rate": _pct(row.call_rate), "rate": _pct(row.rate),
                         "note": "" if row.rank is not None else str(_("too few ratings"))})
    return export(fmt="xlsx", filename=f"rankings-{result.start:%Y%m%d}-{result.end:%Y%m%d}", columns=columns, rows=rows)


@require_GET
def hall_rankings(request: HttpRequest) -> HttpResponse:
    limited = rate_limited(request, scope="hall-rankings", limit=settings.ONEMAP_PUBLIC_PAGE_PER_MINUTE)
    if limited is not None:
        return limited
    form = PeriodForm(request.GET or {"period": "month"})
    if not form.is_valid():
        return render(request, "hall/rankings.html", {"form": form}, status=400)
    data = form.cleaned_data
    result = selectors.rankings(start=data["start"], end=data["end"])
    if request.GET.get("format") == "xlsx":
        return _export(result)
    chart = [(row.label, round(row.rate * 100, 1)) for row in result.windows if row.rank is not None]
    query = {"period": data["period"], "start": data["start"].isoformat(), "end": data["end"].isoformat()}
    return render(request, "hall/rankings.html", {
        "form": form, "result": result, "chart": chart, "period_label": selectors.PERIOD_LABELS[data["period"]],
        "query": urlencode(query), "weight": f"{result.weight:g}",
        "call_weight": f"{1 - result.weight:.10g}",
    })


urlpatterns = [
    path("hall/rankings/", hall_rankings, name="hall-rankings"),
]
