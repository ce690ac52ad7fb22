"""Forms: parse input only; the work is done by services and selectors."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.utils.translation import gettext_lazy as _

from approvals.choices import ApplicationKind
from approvals.services import SitePart
from parcels.choices import LayerKind, LayerRule
from parcels.exceptions import SpatialInputError
from parcels.geo import STORAGE_SRID
from parcels.importers.boundary_txt import parse_boundary_txt
from parcels.site_input import parse_site_geojson


def _txt_parts(data: bytes, source: str) -> tuple[MultiPolygon, list[SitePart], list[str]]:
    """Site, parcels and warnings from a boundary-point TXT file (one part per [地块坐标] parcel)."""
    parsed = parse_boundary_txt(data, source=source)
    parts = []
    for p in parsed.parcels:
        declared = None
        if p.declared_area:
            # Normally hectares; a value matching the computed m² (the parser warned) is taken as m².
            as_m2 = abs(p.declared_area - p.planar_area_m2) <= 0.01 * p.planar_area_m2
            declared = p.declared_area if as_m2 else p.declared_area * 10_000
        geom = GEOSGeometry(memoryview(p.geometry.wkb), srid=STORAGE_SRID)
        parts.append(SitePart(geom=geom if geom.geom_type == "MultiPolygon" else MultiPolygon(geom, srid=STORAGE_SRID),
                              name=p.name or p.number, use=p.use, land_class=p.land_class, declared_area_m2=declared))
    site = MultiPolygon([poly for part in parts for poly in part.geom], srid=STORAGE_SRID)
    if not site.valid:
        raise SpatialInputError(_("the parcels overlap each other: %(reason)s") % {"reason": site.valid_reason}, source=source)
    return site, parts, list(parsed.warnings)


class SiteForm(forms.Form):
    """A site drawn on the map (GeoJSON in a hidden field) or uploaded: GeoJSON, or the national
    boundary-point TXT (one parcel per [地块坐标] block, with declared areas)."""

    site_geojson = forms.CharField(widget=forms.HiddenInput(attrs={"id": "id_site_geojson"}), required=False)
    site_file = forms.FileField(
        label=_("Or upload a file"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".geojson,.json,.txt,application/geo+json,text/plain"}),
        help_text=_(
            "A boundary-point coordinate file (.txt, 勘测定界界址点坐标交换格式) or GeoJSON: polygons in "
            "longitude/latitude (CGCS2000 or WGS84) or with an EPSG crs member."
        ),
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
                if upload.name.lower().endswith(".txt"):
                    data["site"], data["parts"], data["warnings"] = _txt_parts(upload.read(), upload.name)
                else:
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

    @property
    def parts(self) -> list[SitePart] | None:
        return self.cleaned_data.get("parts")

    @property
    def warnings(self) -> list[str]:
        return self.cleaned_data.get("warnings", [])


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


class LayerImportForm(forms.Form):
    """An administrator's upload of a one-map layer file (a new version of the layer)."""

    file = forms.FileField(label=_("Layer file"), help_text=_("GeoJSON, TopoJSON, zipped Shapefile, GeoPackage, KML, CSV with WKT, or boundary-point TXT"))
    layer = forms.SlugField(label=_("Layer (slug)"), max_length=64)
    name = forms.CharField(label=_("Layer name (for a new layer)"), max_length=128, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=LayerKind.choices, initial=LayerKind.OTHER)
    rule = forms.ChoiceField(label=_("Rule"), choices=LayerRule.choices, initial=LayerRule.INFO)
    class_field = forms.CharField(label=_("Class code field"), max_length=64, required=False)
    class_name_field = forms.CharField(label=_("Class name field"), max_length=64, required=False)
    srid = forms.IntegerField(label=_("EPSG code, if the file declares none"), required=False, min_value=1024, max_value=999999)
    encoding = forms.CharField(label=_("Attribute encoding (e.g. GBK)"), max_length=32, required=False)
    skip_invalid = forms.BooleanField(label=_("Skip invalid features instead of refusing the file"), required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.ONEMAP_MAX_LAYER_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("%(name)s is %(size)d bytes; the limit is %(limit)d bytes (use the import_layer command for larger files)")
                % {"name": upload.name, "size": upload.size, "limit": settings.ONEMAP_MAX_LAYER_UPLOAD_BYTES}
            )
        return upload
