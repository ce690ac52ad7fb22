from django.urls import path

from maps.views import api, geo, pages, printmap

urlpatterns = [
    path("", pages.home, name="home"),
    path("applications/", pages.application_list, name="application-list"),
    path("applications/new/", pages.application_new, name="application-new"),
    path("applications/<int:pk>/", pages.application_detail, name="application-detail"),
    path("applications/<int:pk>/act/", pages.application_act, name="application-act"),
    path("applications/<int:pk>/print/", pages.application_print, name="application-print"),
    path("applications/<int:pk>/pieces.geojson", pages.application_pieces, name="application-pieces"),
    path("applications/<int:pk>/resubmit/", pages.application_resubmit, name="application-resubmit"),
    path("applications/<int:pk>/documents/<int:document_pk>/", pages.document_download, name="document-download"),
    path("inbox/", pages.inbox, name="inbox"),
    path("applications/<int:pk>/overlap/rerun/", pages.application_overlap_rerun, name="application-overlap-rerun"),
    path("planner/overlap/", pages.planner_overlap, name="planner-overlap"),
    path("planner/layers/", pages.planner_layers, name="planner-layers"),
    path("planner/applications/", pages.planner_applications, name="planner-applications"),
    path("maps/print/", printmap.print_map, name="print-map"),
    path("dashboard/", pages.dashboard, name="dashboard"),
    path("layers/import/", pages.layer_import, name="layer-import"),
    path("api/site/check/", api.site_check, name="api-site-check"),
    path("api/site/preview/", api.site_preview, name="api-site-preview"),
    path("api/overlap/", api.overlap, name="api-overlap"),
    path("api/layers/", api.layer_list, name="api-layer-list"),
    path("api/parcels/", api.parcel_list, name="api-parcel-list"),
    path("api/zones/<int:pk>/", api.zone_detail, name="api-zone-detail"),
    path("api/applications/", api.application_list, name="api-application-list"),
    path("api/applications/<int:pk>/", api.application_detail, name="api-application-detail"),
    path("api/applications/<int:pk>/actions/", api.application_action, name="api-application-action"),
    path("api/layers/<slug:slug>/geojson/", api.layer_geojson, name="api-layer-geojson"),
    path("tiles/<slug:slug>/v<int:version>/<int:z>/<int:x>/<int:y>.pbf", geo.tile, name="layer-tile"),
]
