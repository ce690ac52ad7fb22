"""Map output (出图): the print-map page and its PDF / PNG, for the bureau's staff and planners.

GET only (a sheet is a read): parse the form → maps.render.sheet.sheet_build → preview, PDF or
PNG. Every parameter is checked by the form or the renderer; a bad one is a 400 with its message,
too much data a 400 saying what to change, never a 500.
"""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from approvals.choices import Role
from approvals.hall.services.ratelimit import rate_limit_hit
from approvals.hall.views.common import too_many
from approvals.permissions import has_role, memberships
from maps.render import SCALES, RenderError, svg_data_uri
from maps.render.raster import DPI_CHOICES, pdf_to_png
from maps.render.sheet import PAPERS, centre_from_gk, sheet_build, sheet_pdf
from parcels.models import Layer
from parcels.selectors import active_layers

# The bureau's staff and planners; applicants and call-back surveyors do not print maps.
PRINT_ROLES = (Role.CLERK, Role.REVIEWER, Role.DEPARTMENT_REVIEWER, Role.PLANNER, Role.ADMIN)
DEFAULT_CENTRE = (113.93, 29.97)  # Jiayu county seat, CGCS2000 lon/lat
GRID_CHOICES = (50, 100, 200, 250, 500, 1000, 2000)
FORMATS = ("preview", "pdf", "png")
# PDF and PNG sheets per user a minute: each costs a WeasyPrint layout (and a rasterisation).
OUTPUTS_PER_MINUTE = 12
PREVIEW_WIDTH_PX = 760


class PrintMapForm(forms.Form):
    centre = forms.ChoiceField(label=gettext_lazy("Centre given as"), initial="lonlat",
                               choices=[("lonlat", gettext_lazy("Longitude / latitude (CGCS2000)")),
                                        ("gk", gettext_lazy("Gauss–Krüger X / Y (3° zone)"))])
    lon = forms.FloatField(label=gettext_lazy("Longitude (°E)"), required=False, min_value=-180, max_value=180)
    lat = forms.FloatField(label=gettext_lazy("Latitude (°N)"), required=False, min_value=-90, max_value=90)
    x = forms.FloatField(label=gettext_lazy("X northing (m)"), required=False)
    y = forms.FloatField(label=gettext_lazy("Y easting with zone (m)"), required=False)
    scale = forms.TypedChoiceField(label=gettext_lazy("Scale"), coerce=int, initial=2000,
                                   choices=[(s, f"1:{s}") for s in SCALES])
    paper = forms.ChoiceField(label=gettext_lazy("Paper"), initial="A4", choices=[(p, p) for p in PAPERS])
    orientation = forms.ChoiceField(label=gettext_lazy("Orientation"), initial="landscape",
                                    choices=[("portrait", gettext_lazy("Portrait")), ("landscape", gettext_lazy("Landscape"))])
    layers = forms.ModelMultipleChoiceField(label=gettext_lazy("Layers"), queryset=Layer.objects.none(), to_field_name="slug",
                                            required=False, widget=forms.CheckboxSelectMultiple)
    parcels = forms.BooleanField(label=gettext_lazy("Registered parcels"), required=False, initial=True)
    applications = forms.BooleanField(label=gettext_lazy("Application sites in your jurisdiction"), required=False, initial=True)
    grid = forms.TypedChoiceField(label=gettext_lazy("Grid"), coerce=int, required=False, empty_value=None,
                                  choices=[("", gettext_lazy("By scale"))] + [(g, f"{g} m") for g in GRID_CHOICES])
    title = forms.CharField(label=gettext_lazy("Title"), required=False, max_length=80, strip=True)
    dpi = forms.TypedChoiceField(label=gettext_lazy("PNG resolution (dpi)"), coerce=int, initial=150,
                                 choices=[(d, str(d)) for d in DPI_CHOICES], required=False, empty_value=150)
    format = forms.ChoiceField(choices=[(f, f) for f in FORMATS], required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Logged-in staff see every active layer (only anonymous visitors are limited to public ones).
        self.fields["layers"].queryset = active_layers()

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        try:
            if data.get("centre") == "gk":
                if data.get("x") is None or data.get("y") is None:
                    raise forms.ValidationError(_("Give the centre's X (northing) and Y (easting)."))
                data["centre_lonlat"] = centre_from_gk(x_north=data["x"], y_east=data["y"])
            else:
                if data.get("lon") is None or data.get("lat") is None:
                    raise forms.ValidationError(_("Give the centre's longitude and latitude."))
                data["centre_lonlat"] = (data["lon"], data["lat"])
        except RenderError as exc:
            raise forms.ValidationError(str(exc)) from None
        return data


def _initial(user) -> dict:
    """The form's first state: the user's own division's centre, A4 landscape at 1:2000."""
    centre = DEFAULT_CENTRE
    membership = next((m for role in PRINT_ROLES for m in memberships(user, role) if m.division.boundary is not None
                       and m.division.level in ("county", "station")), None)
    if membership is not None:
        point = membership.division.boundary.point_on_surface
        centre = (round(point.x, 6), round(point.y, 6))
    return {"lon": centre[0], "lat": centre[1], "title": _("Map sheet"), "layers": []}


def _filename(sheet, suffix: str) -> str:
    stem = f"map-1-{sheet.frame.scale}-{sheet.printed_at:%Y%m%d-%H%M}"
    return re.sub(r"[^A-Za-z0-9-]", "_", stem) + suffix


@never_cache
@login_required
@require_GET
def print_map(request: HttpRequest) -> HttpResponse:
    if not any(has_role(request.user, role) for role in PRINT_ROLES):
        return HttpResponseForbidden(_("Map output is for the bureau's staff and planners."))
    bound = "scale" in request.GET
    form = PrintMapForm(request.GET if bound else None, initial=_initial(request.user))
    context: dict = {"form": form}
    if not bound:
        return render(request, "maps/print_map.html", context)
    if not form.is_valid():
        return render(request, "maps/print_map.html", context, status=400)
    data = form.cleaned_data
    fmt = data["format"] or "preview"
    if fmt in ("pdf", "png") and rate_limit_hit(scope="print-map", address=f"user:{request.user.pk}", limit=OUTPUTS_PER_MINUTE):
        return too_many(request)
    try:
        sheet = sheet_build(
            user=request.user, centre_lonlat=data["centre_lonlat"], scale=data["scale"], paper=data["paper"],
            orientation=data["orientation"], layers=list(data["layers"]), parcels=data["parcels"],
            applications=data["applications"], title=data["title"] or _("Map sheet"), grid_m=data["grid"],
            english=(request.LANGUAGE_CODE or "").startswith("en"),
        )
        if fmt == "pdf":
            response = HttpResponse(sheet_pdf(sheet), content_type="application/pdf")
            response["Content-Disposition"] = f'attachment; filename="{_filename(sheet, ".pdf")}"'
            return response
        if fmt == "png":
            response = HttpResponse(pdf_to_png(sheet_pdf(sheet), dpi=data["dpi"] or 150), content_type="image/png")
            response["Content-Disposition"] = f'attachment; filename="{_filename(sheet, ".png")}"'
            return response
    except RenderError as exc:
        form.add_error(None, str(exc))
        return render(request, "maps/print_map.html", context, status=400)
    query = request.GET.copy()
    query.pop("format", None)
    ratio = sheet.frame.height_mm / sheet.frame.width_mm
    context.update({"sheet": sheet, "map_uri": svg_data_uri(sheet.svg), "query": query.urlencode(),
                    "preview_w": PREVIEW_WIDTH_PX, "preview_h": round(PREVIEW_WIDTH_PX * ratio)})
    return render(request, "maps/print_map.html", context)
