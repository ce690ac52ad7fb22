"""Forms: parse input only; the work is done by services and selectors."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.utils.translation import gettext_lazy as _

from approvals.choices import StepOutcome
from approvals.hall.forms import OnBehalfForm
from approvals.models import ApplicationKind, Department, RequiredDocument
from approvals.services import SitePart
from parcels.choices import LayerKind, LayerRule
from parcels.exceptions import SpatialInputError
from parcels.geo import STORAGE_SRID
from parcels.importers.boundary_txt import parse_boundary_txt
from parcels.limits import check_counts, check_kml_size, check_shapefile_size, check_txt_size
from parcels.models import Division, Layer
from parcels.site_input import parse_site_geojson


def _txt_parts(data: bytes, source: str) -> tuple[MultiPolygon, list[SitePart], list[str]]:
    """Site, parcels and warnings from a boundary-point TXT file (one part per [地块坐标] parcel)."""
    check_txt_size(data)  # parcels and points counted before parsing (parcels/limits.py)
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


SITE_FILE_SUFFIXES = (".geojson", ".json", ".txt", ".zip", ".kml")


# Vector formats a site file may be in besides GeoJSON and TXT (parcels.importers.safety).
SITE_VECTOR_FORMATS = frozenset({"shapefile_zip", "kml"})


def _vector_site(data: bytes, name: str) -> MultiPolygon:
    """A zipped Shapefile or KML read through GDAL (any CRS it declares → 4490): its polygons.

    The file is checked before GDAL opens it (content must match the extension, no references
    to other files or URLs); its parts and vertices are counted on the file itself (Shapefile
    record headers, KML XML text) before GDAL builds any geometry, because GDAL and union_all
    took 205 s and 5.9 GB for one 0.75 MB zip; a KML GroundOverlay is refused (its <LatLonBox>
    would become the site). Z/M values are dropped as for GeoJSON."""
    import re
    import tempfile
    from pathlib import Path

    from shapely import force_2d, get_num_coordinates, union_all
    from shapely.geometry import MultiPolygon as ShapelyMulti

    from parcels.importers.readers import read_any
    from parcels.importers.safety import checked_vector_file

    with tempfile.TemporaryDirectory(prefix="onemap-site-") as folder:
        path = Path(folder) / f"site{Path(name).suffix.lower()}"
        path.write_bytes(data)
        with checked_vector_file(path, source=name, accepted=SITE_VECTOR_FORMATS) as checked:
            if checked.path.suffix.lower() == ".shp":
                check_shapefile_size(shp=checked.path, shx=checked.path.with_suffix(".shx"))
            else:
                # Element names cannot be written with character references, so the bytes show it.
                if re.search(rb"<\s*(?:[A-Za-z0-9_.-]+:)?GroundOverlay\b", data):
                    raise SpatialInputError(
                        _("contains a GroundOverlay (an image's box); a site must be drawn as Placemark polygons"), source=name)
                check_kml_size(data, source=name)
            # the unpacked copy (a .shp) is read, so the zip is not unpacked a second time
            source = read_any(checked.path, source=name, accepted=SITE_VECTOR_FORMATS | {"shapefile"}, srid=None)
    polygons = [force_2d(g) for g in source.geoms if g is not None and g.geom_type in ("Polygon", "MultiPolygon")]
    if not polygons:
        raise SpatialInputError(_("contains no polygons"), source=name)
    # what GDAL built, counted again before union_all (defence in depth for anything the counts missed)
    check_counts(parts=len(polygons), vertices=int(get_num_coordinates(polygons).sum()))
    merged = union_all(polygons)
    if merged.geom_type not in ("Polygon", "MultiPolygon"):
        raise SpatialInputError(_("contains no polygons"), source=name)
    merged = merged if merged.geom_type == "MultiPolygon" else ShapelyMulti([merged])
    return parse_site_geojson(merged.__geo_interface__, source=name)


def site_from_upload(upload) -> tuple[MultiPolygon, list[SitePart] | None, list[str]]:
    """Site, parcels (TXT only) and warnings from an uploaded file; SpatialInputError otherwise."""
    name = upload.name or "upload"
    if upload.size > settings.ONEMAP_MAX_UPLOAD_BYTES:
        raise SpatialInputError(
            _("file is %(size)d bytes; the limit is %(limit)d bytes") % {"size": upload.size, "limit": settings.ONEMAP_MAX_UPLOAD_BYTES},
            source=name,
        )
    lower = name.lower()
    data = upload.read()
    if lower.endswith(".txt"):
        return _txt_parts(data, name)
    if lower.endswith((".zip", ".kml")):
        return _vector_site(data, name), None, []
    if lower.endswith((".geojson", ".json")):
        # Parsed by Python (parcels.site_input), never by GDAL.
        return parse_site_geojson(data, source=name), None, []
    raise SpatialInputError(
        _("unsupported file type; accepted: %(suffixes)s") % {"suffixes": " ".join(SITE_FILE_SUFFIXES)}, source=name
    )


class SiteForm(forms.Form):
    """A site drawn on the map (GeoJSON in a hidden field) or uploaded: GeoJSON, the national
    boundary-point TXT (one parcel per [地块坐标] block, with declared areas), a zipped Shapefile or KML."""

    site_geojson = forms.CharField(widget=forms.HiddenInput(attrs={"id": "id_site_geojson"}), required=False)
    site_file = forms.FileField(
        label=_("Or upload a file"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(SITE_FILE_SUFFIXES) + ",application/geo+json,text/plain"}),
        help_text=_(
            "A boundary-point coordinate file (.txt, 勘测定界界址点坐标交换格式), GeoJSON (longitude/latitude, "
            "CGCS2000 or WGS84, or with an EPSG crs member), a zipped Shapefile (.zip) or KML."
        ),
    )

    def clean(self) -> dict:
        data = super().clean()
        upload = data.get("site_file")
        try:
            if upload:
                data["site"], data["parts"], data["warnings"] = site_from_upload(upload)
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


class KindChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: ApplicationKind) -> str:
        return obj.label


class ApplicationForm(OnBehalfForm, SiteForm):
    """A new application; `agent_allowed` (window clerks) adds "on behalf of" (approvals.hall.forms)."""

    title = forms.CharField(label=_("Project title"), max_length=200)
    kind = KindChoiceField(label=_("Kind of application"), queryset=ApplicationKind.objects.filter(active=True), empty_label=None)
    purpose = forms.CharField(label=_("Purpose of the land use"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    field_order = ["title", "kind", "purpose", "site_geojson", "site_file"]


class ResubmitForm(SiteForm):
    """The applicant's correction: fields as they are now; a new site only if drawn or uploaded."""

    title = forms.CharField(label=_("Project title"), max_length=200)
    purpose = forms.CharField(label=_("Purpose of the land use"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    field_order = ["title", "purpose", "site_geojson", "site_file"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site_geojson"].required = False

    def clean(self) -> dict:
        data = forms.Form.clean(self)
        if data.get("site_geojson") or data.get("site_file"):
            data = super().clean()
        return data


class ReasonsForm(forms.Form):
    """A return: one reason per line (the applicant or the level below sees them as a list)."""

    reasons = forms.CharField(label=_("Reasons, one per line"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_reasons(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["reasons"].splitlines() if line.strip()]
        if not lines:
            raise forms.ValidationError(_("A return needs at least one reason."))
        return lines


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Decision"), choices=[(StepOutcome.FORWARDED, _("Approve and forward")),
                                                            (StepOutcome.APPROVED, _("Final approval")),
                                                            (StepOutcome.REJECTED, _("Reject"))])
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, last_level: bool | None = None, **kwargs) -> None:
        """`last_level`: whether the open step is the route's last level. The service refuses a
        forward from the last level and a final approval below it, so the menu does not offer them."""
        super().__init__(*args, **kwargs)
        if last_level is not None:
            drop = StepOutcome.FORWARDED if last_level else StepOutcome.APPROVED
            self.fields["outcome"].choices = [c for c in self.fields["outcome"].choices if c[0] != drop]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("outcome") == StepOutcome.REJECTED and not (data.get("comment") or "").strip():
            self.add_error("comment", _("A rejection needs a comment saying why."))
        return data


class DepartmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Department) -> str:
        return obj.label


class DepartmentMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Department) -> str:
        return obj.label


class AssignForm(forms.Form):
    lead = DepartmentChoiceField(label=_("Lead department"), queryset=Department.objects.none())
    cooperating = DepartmentMultipleChoiceField(label=_("Cooperating departments"), queryset=Department.objects.none(),
                                                required=False, widget=forms.CheckboxSelectMultiple)
    days = forms.DecimalField(label=_("Working days for opinions"), min_value=Decimal("0.5"), max_value=Decimal("30"),
                              decimal_places=1, initial=Decimal("2"))

    def __init__(self, *args, division=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        departments = Department.objects.filter(division=division) if division is not None else Department.objects.none()
        self.fields["lead"].queryset = departments
        self.fields["cooperating"].queryset = departments

    def clean_days(self) -> Decimal:
        days = self.cleaned_data["days"]
        if days * 2 != int(days * 2):
            raise forms.ValidationError(_("Working days go in halves (e.g. 1.5)."))
        return days


class OpinionForm(forms.Form):
    agrees = forms.TypedChoiceField(label=_("Opinion"), choices=[("1", _("Agree")), ("0", _("Disagree"))],
                                    coerce=lambda v: v == "1", widget=forms.RadioSelect, initial="1")
    opinion = forms.CharField(label=_("Opinion text"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class ModifyForm(forms.Form):
    title = forms.CharField(label=_("Project title"), max_length=200)
    purpose = forms.CharField(label=_("Purpose of the land use"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    green_channel = forms.BooleanField(label=_("Green channel"), required=False)


class RequirementChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: RequiredDocument) -> str:
        return obj.label


class DocumentForm(forms.Form):
    requirement = RequirementChoiceField(label=_("Document"), queryset=RequiredDocument.objects.none(), empty_label=None)
    file = forms.FileField(label=_("File (PDF, PNG or JPEG)"))

    def __init__(self, *args, kind=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if kind is not None:
            self.fields["requirement"].queryset = kind.required_documents.all()


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


class LayerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        from django.utils.translation import get_language

        return obj.name_en if (get_language() or "").startswith("en") and obj.name_en else obj.name


class DivisionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.code} {obj.name}"


def _active_layers():
    from parcels.selectors import active_layers

    return active_layers()


class LayerCrossForm(forms.Form):
    """Two layers intersected inside a county (e.g. permanent farmland × land-use survey)."""

    layer_a = LayerChoiceField(label=_("First layer"), queryset=Layer.objects.none(), to_field_name="slug")
    layer_b = LayerChoiceField(label=_("Second layer"), queryset=Layer.objects.none(), to_field_name="slug")
    division = DivisionChoiceField(label=_("Within"), queryset=Division.objects.filter(level__in=["county", "city"]), to_field_name="code")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["layer_a"].queryset = _active_layers()
        self.fields["layer_b"].queryset = _active_layers()

    def clean(self) -> dict:
        data = super().clean()
        if data.get("layer_a") and data.get("layer_a") == data.get("layer_b"):
            raise forms.ValidationError(_("Pick two different layers."))
        return data


class ApplicationQueryForm(forms.Form):
    """Planners' query across applications (all fields optional)."""

    year = forms.IntegerField(label=_("Year submitted"), required=False, min_value=2000, max_value=2100)
    kind = KindChoiceField(label=_("Kind"), queryset=ApplicationKind.objects.all(), to_field_name="code", required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    layer = LayerChoiceField(label=_("Touches layer"), queryset=Layer.objects.none(), to_field_name="slug", required=False)
    division = DivisionChoiceField(label=_("Division"), queryset=Division.objects.exclude(level="nation"), to_field_name="code", required=False)

    def __init__(self, *args, **kwargs) -> None:
        from approvals.choices import ApplicationStatus

        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", "—"), *ApplicationStatus.choices]
        self.fields["layer"].queryset = _active_layers()
