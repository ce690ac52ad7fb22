/* OneMap map behaviour shared by every page: layer loading by bounding box, site drawing with
 * server-side area and validity check. No external requests: everything is fetched from this server.
 * Areas shown are computed by PostGIS on the CGCS2000 ellipsoid (m², ha, mu). */
(function () {
  "use strict";
  var OneMap = (window.OneMap = window.OneMap || { maps: [] });

  OneMap.register = function (map) {
    OneMap.maps.push(map);
    OneMap.map = map;
  };

  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  OneMap.csrfToken = csrfToken;

  function fmt(n, digits) {
    return Number(n).toLocaleString(document.documentElement.lang || "zh-Hans", {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
  }
  OneMap.fmt = fmt;

  /* One-map layers, fetched as simplified GeoJSON for the visible box only (never whole layers). */
  OneMap.bboxLayers = function (map, cfg) {
    var overlays = {};
    var state = {};
    cfg.layers.forEach(function (layer) {
      var group = L.geoJSON(null, {
        style: function () {
          return { color: layer.color, weight: 1, fillColor: layer.color, fillOpacity: 0.25 };
        },
        onEachFeature: function (feature, lyr) {
          var p = feature.properties || {};
          lyr.bindTooltip(layer.name + ": " + (p.class_code || "") + " " + (p.class_name || ""), { sticky: true });
        },
      });
      state[layer.slug] = { layer: layer, group: group, pending: null };
      overlays['<span class="legend-swatch" style="background:' + layer.color + '"></span>' + layer.name] = group;
      if (layer.visible) group.addTo(map);
    });
    L.control.layers(null, overlays, { collapsed: cfg.collapsed }).addTo(map);

    function refresh() {
      var b = map.getBounds();
      var z = map.getZoom();
      Object.keys(state).forEach(function (slug) {
        var s = state[slug];
        if (!map.hasLayer(s.group)) return;
        if (z < s.layer.min_zoom) {
          s.group.clearLayers();
          return;
        }
        if (s.pending) s.pending.abort();
        var ctrl = new AbortController();
        s.pending = ctrl;
        var url = cfg.url.replace("__slug__", slug) + "?in_bbox=" + [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(6); }).join(",") + "&zoom=" + z;
        fetch(url, { signal: ctrl.signal, credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (data) {
            s.group.clearLayers();
            s.group.addData(data);
            s.pending = null;
            map.fire("onemap:layerloaded", { slug: slug, count: (data.features || []).length });
          })
          .catch(function (err) {
            if (err.name !== "AbortError") console.error("layer " + slug, err);
          });
      });
    }
    map.on("moveend overlayadd", refresh);
    refresh();
  };

  /* Drawing a site: every change is sent to the server, which validates it and computes its area. */
  OneMap.siteDraw = function (map, cfg) {
    var drawn = new L.FeatureGroup().addTo(map);
    var shape = { allowIntersection: false, showArea: true, metric: true, shapeOptions: { color: "#d4380d", weight: 2 } };
    new L.Control.Draw({
      position: "topleft",
      draw: { polyline: false, circle: false, circlemarker: false, marker: false, polygon: shape, rectangle: { showArea: true, metric: true, shapeOptions: shape.shapeOptions } },
      edit: { featureGroup: drawn },
    }).addTo(map);
    var input = document.getElementById(cfg.input);
    var out = document.getElementById(cfg.output);

    function show(html, isError) {
      if (!out) return;
      out.innerHTML = html;
      out.classList.toggle("error", !!isError);
    }

    function sync() {
      var fc = drawn.toGeoJSON();
      if (!fc.features.length) {
        if (input) input.value = "";
        show(cfg.labels.empty, false);
        return;
      }
      var body = JSON.stringify(fc);
      if (input) input.value = body;
      show(cfg.labels.checking, false);
      fetch(cfg.checkUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: body,
      })
        .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
        .then(function (res) {
          if (!res.ok) {
            show(cfg.labels.invalid + " " + res.data.detail, true);
            return;
          }
          var d = res.data;
          show(
            '<span class="area-m2">' + fmt(d.area_m2, 2) + "</span> m² · " +
              '<span class="area-mu">' + fmt(d.area_mu, 3) + "</span> " + cfg.labels.mu + " · " +
              '<span class="area-ha">' + fmt(d.area_ha, 4) + "</span> ha" +
              ' <small>(' + cfg.labels.method + ", " + d.parts + " " + cfg.labels.parts + ")</small>",
            false
          );
          map.fire("onemap:sitechecked", d);
        });
    }
    map.on(L.Draw.Event.CREATED, function (e) {
      drawn.addLayer(e.layer);
      sync();
    });
    map.on(L.Draw.Event.EDITED + " " + L.Draw.Event.DELETED, sync);
    OneMap.drawn = drawn;
    OneMap.loadSite = function (geojson) {
      drawn.clearLayers();
      L.geoJSON(geojson).eachLayer(function (l) { drawn.addLayer(l); });
      if (drawn.getLayers().length) map.fitBounds(drawn.getBounds(), { maxZoom: 17 });
      sync();
    };
    if (input && input.value) OneMap.loadSite(JSON.parse(input.value));
  };
})();
