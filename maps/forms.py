"""Forms: parse input only; the work is done by services and selectors."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.gis.geos import MultiPolygon
from django.utils.translation import gettext_lazy as _

from approvals.choices import ApplicationKind
from parcels.exceptions import SpatialInputError
from parcels.site_input import parse_site_geojson


class SiteForm(forms.Form):
    """A site drawn on the map (GeoJSON in a hidden field) or uploaded as a GeoJSON file."""

    site_geojson = forms.CharField(widget=forms.HiddenInput(attrs={"id": "id_site_geojson"}), required=False)
    site_file = forms.FileField(
        label=_("Or upload a GeoJSON file"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".geojson,.json,application/geo+json"}),
        help_text=_("Polygon or MultiPolygon in longitude/latitude (CGCS2000 or WGS84), or with an EPSG crs member."),
    )

    def clean(self) -> dict:
        data = super().clean()
        upload = data.get("site_file")
        try:
            if upload:
                if upload.size > settings.ONEMAP_MAX_UPLOAD_BYTES:
                    raise SpatialInputError(
                        _("file is %(size)d bytes; the limit is %(limit)d bytes")
                        % {"size": upload.size, "limit": settings.ONEMAP_MAX_UPLOAD_BYTES},
                        source=upload.name,
                    )
                data["site"] = parse_site_geojson(upload.read(), source=upload.name)
            elif data.get("site_geojson"):
                data["site"] = parse_site_geojson(data["site_geojson"], source=str(_("drawn site")))
            else:
                raise forms.ValidationError(_("Draw the site on the map or upload a GeoJSON file."), code="no_site")
        except SpatialInputError as exc:
            raise forms.ValidationError(str(exc), code="bad_site") from exc
        return data

    @property
    def site(self) -> MultiPolygon:
        return self.cleaned_data["site"]


class ApplicationForm(SiteForm):
    title = forms.CharField(label=_("Project title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind of application"), choices=ApplicationKind.choices)
    purpose = forms.CharField(label=_("Purpose of the land use"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    field_order = ["title", "kind", "purpose", "site_geojson", "site_file"]


class DecisionForm(forms.Form):
    action = forms.ChoiceField(choices=[("approve", _("Approve")), ("return", _("Return"))])
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self) -> dict:
        data = super().clean()
        if data.get("action") == "return" and not (data.get("comment") or "").strip():
            self.add_error("comment", _("A return needs a comment saying why."))
        return data
