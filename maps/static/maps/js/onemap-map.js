/* OneMap map behaviour shared by every page: layer loading by bounding box, site drawing with
 * server-side area and validity check. No external requests: everything is fetched from this server.
 * Areas shown are computed by PostGIS on the CGCS2000 ellipsoid (m², ha, mu).
 *
 * Text from users, files and layers is never HTML here: tooltips, popups, the legend and messages
 * are DOM nodes built by onemap-text.js (loaded first); Leaflet's layer switcher, which only takes
 * HTML names, gets escaped ones. */
(function () {
  "use strict";
  var OneMap = (window.OneMap = window.OneMap || { maps: [] });
  var T = OneMap.text;
  function E(tag, attrs, children) { return T.el(document, tag, attrs, children); }
  OneMap.E = E;

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

  /* A folium GeoJSON layer's hover tooltip: the listed properties as a table of text (folium's own
   * GeoJsonTooltip inserts them as HTML). */
  OneMap.textTooltip = function (layer, cfg) {
    layer.bindTooltip(function (l) {
      var p = (l.feature && l.feature.properties) || {};
      return T.table(document, T.fieldRows(p, cfg.fields, cfg.aliases));
    }, { sticky: true, className: "onemap-tooltip" });
  };

  /* One-map layers as vector tiles of their active version (never whole layers in the page).
   * Tiles below a layer's minimum zoom are empty; generalisation happens on the server. */
  OneMap.tileLayers = function (map, cfg) {
    var overlays = {};
    OneMap.grids = OneMap.grids || {};
    cfg.layers.forEach(function (layer) {
      var color = T.color(layer.color);
      var style = { color: color, weight: 1, fill: true, fillColor: color, fillOpacity: 0.25,
                    className: "zone zone-" + String(layer.slug).replace(/[^a-z0-9-]/gi, "") };
      var grid = L.vectorGrid.protobuf(layer.tile_url, {
        rendererFactory: L.svg.tile,
        vectorTileLayerStyles: { zones: style },
        interactive: true,
        minZoom: layer.min_zoom,
        maxNativeZoom: 18,
        // the tile's feature id (the zone's key) is kept in the properties for the attribute popup
        getFeatureId: function (f) { f.properties.zone_id = f.id; return f.id; },
      });
      grid.on("click", function (e) {
        var p = e.layer.properties || {};
        var latlng = e.latlng || map.getCenter();
        var popup = L.popup({ maxWidth: 360 })
          .setLatLng(latlng)
          .setContent(E("div", { "class": "zone-summary" }, [
            E("strong", null, layer.name), E("br"), T.str(p.class_code) + " " + T.str(p.class_name), E("br"),
            fmt(p.area_m2 || 0, 1) + " m²"]))
          .openOn(map);
        // every attribute of the feature, from the server (tiles carry only what drawing needs)
        var id = p.zone_id;
        if (cfg.zoneUrl && id !== undefined) {
          fetch(cfg.zoneUrl.replace(/0\/$/, id + "/"), { credentials: "same-origin" })
            .then(function (r) { return r.ok ? r.json() : null; })
            .then(function (z) {
              if (!z) return;
              var rows = [[cfg.labels["class"] || "class", T.str(z.class_code) + " " + T.str(z.class_name)], [cfg.labels.area || "m²", fmt(z.area_m2, 2) + " m² · " + fmt(z.area_mu, 3) + " " + (cfg.labels.mu || "mu")]];
              Object.keys(z.attributes || {}).forEach(function (k) { rows.push([k, z.attributes[k]]); });
              popup.setContent(E("div", { "class": "zone-attributes" }, [
                E("strong", null, layer.name + " v" + T.str(z.version)), T.table(document, rows)]));
            });
        }
      });
      grid.on("load", function () { map.fire("onemap:tilesloaded", { slug: layer.slug }); });
      OneMap.grids[layer.slug] = grid;
      // Leaflet writes switcher names with innerHTML: the name is escaped, the swatch is SVG
      overlays[T.swatchHtml(color) + T.esc(layer.name)] = grid;
      if (layer.visible) grid.addTo(map);
    });
    OneMap.layersControl = L.control.layers(null, overlays, { collapsed: cfg.collapsed }).addTo(map);
    if (cfg.labels && cfg.labels.legend) OneMap.legend(map, cfg);
  };

  /* Legend: each layer's colour and rule, and how overlaps are outlined (red conflict, green fine). */
  OneMap.legend = function (map, cfg) {
    var Legend = L.Control.extend({
      options: { position: "bottomright" },
      onAdd: function () {
        var box = L.DomUtil.create("div", "onemap-legend");
        var items = cfg.layers.map(function (l) {
          return E("li", null, [T.swatch(document, l.color), l.name + " ", E("small", null, "(" + T.str(l.rule_label) + ")")]);
        });
        items.push(E("li", null, [T.swatch(document, cfg.ruleColors.conflict, "line"), cfg.labels.conflict]));
        items.push(E("li", null, [T.swatch(document, cfg.ruleColors.ok, "line"), cfg.labels.ok]));
        box.appendChild(E("details", { open: window.innerWidth > 700 }, [E("summary", null, cfg.labels.legend), E("ul", null, items)]));
        L.DomEvent.disableClickPropagation(box);
        return box;
      },
    });
    new Legend().addTo(map);
  };

  /* One layer switcher per map: later layers (site, overlap pieces) join the tiles' control. */
  OneMap.addOverlay = function (map, layer, label) {
    if (!OneMap.layersControl) OneMap.layersControl = L.control.layers(null, {}, { collapsed: false }).addTo(map);
    OneMap.layersControl.addOverlay(layer, T.esc(label)); // Leaflet sets the name as HTML
  };

  /* Overlap pieces fetched after the page loads: one group per layer in the layer switcher,
   * outlined red where the layer's rule is broken; hover for class and area (m², ellipsoidal). */
  OneMap.remotePieces = function (map, cfg) {
    fetch(cfg.url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (r) { return r.json(); })
      .then(function (fc) {
        var groups = {};
        (fc.features || []).forEach(function (f) {
          var slug = f.properties.layer;
          (groups[slug] = groups[slug] || []).push(f);
        });
        Object.keys(groups).forEach(function (slug) {
          var verdict = cfg.verdicts[slug] || "info";
          var first = groups[slug][0].properties;
          var layer = L.geoJSON({ type: "FeatureCollection", features: groups[slug] }, {
            style: function (f) {
              return { color: cfg.ruleColors[verdict], weight: verdict === "conflict" ? 2 : 1, fillColor: f.properties.color, fillOpacity: 0.45 };
            },
            onEachFeature: function (f, l) {
              var p = f.properties;
              l.bindTooltip(function () {
                return E("div", null, [E("strong", null, p.layer_name), E("br"), T.str(p.class_code) + " " + T.str(p.class_name), E("br"), fmt(p.area_m2, 2) + " m²"]);
              });
            },
          }).addTo(map);
          OneMap.addOverlay(map, layer, first.layer_name + " (" + cfg.labels.overlap + ")");
        });
        map.fire("onemap:piecesloaded", { count: (fc.features || []).length });
        document.documentElement.dataset.piecesLoaded = String((fc.features || []).length);
      });
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

    /* `content`: text or a list of text and nodes (never HTML: error details quote the file). */
    function show(content, isError) {
      if (!out) return;
      T.replace(document, out, content);
      out.classList.toggle("error", !!isError);
    }
    function areas(d) {
      return [E("span", { "class": "area-m2" }, fmt(d.area_m2, 2)), " m² · ", E("span", { "class": "area-mu" }, fmt(d.area_mu, 3)),
              " " + cfg.labels.mu + " · ", E("span", { "class": "area-ha" }, fmt(d.area_ha, 4)), " ha"];
    }

    function sync() {
      var fc = drawn.toGeoJSON(false); // full precision: a picked parcel keeps its exact vertices
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
            show(cfg.labels.invalid + " " + T.str(res.data.detail), true);
            pin(res.data.points);
            if (pre) T.replace(document, pre, []);
            return;
          }
          pin([]);
          var d = res.data;
          show(areas(d).concat([" ", E("small", null, "(" + cfg.labels.method + ", " + T.str(d.parts) + " " + cfg.labels.parts + ")")]), false);
          map.fire("onemap:sitechecked", d);
          precheck(body);
        });
    }

    /* Errors pinned where they are (a self-intersection, an open ring's ends). */
    var errorMarks = L.layerGroup().addTo(map);
    function pin(points) {
      errorMarks.clearLayers();
      (Array.isArray(points) ? points : []).forEach(function (p) {
        // points come from the server's answer about an uploaded file: numbers only
        if (!Array.isArray(p) || typeof p[0] !== "number" || typeof p[1] !== "number" || !isFinite(p[0] + p[1])) return;
        L.circleMarker([p[1], p[0]], { radius: 9, color: "#cf1322", weight: 3, fillOpacity: 0.2, className: "error-point" })
          .bindTooltip(E("span", null, cfg.labels.errorHere), { permanent: true, direction: "top" })
          .addTo(errorMarks);
      });
      var first = errorMarks.getLayers()[0];
      if (first) map.setView(first.getLatLng(), Math.max(map.getZoom(), 16), { animate: false });
    }
    OneMap.pin = pin;

    /* The instant pre-check: which layers the site hits, with the verdict of each layer's rule. */
    var pre = cfg.precheck && document.getElementById(cfg.precheck);
    function precheck(body) {
      if (!pre || !cfg.overlapUrl) return;
      fetch(cfg.overlapUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() }, body: body,
      })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (report) {
          if (!report) { T.replace(document, pre, []); return; }
          var items = (report.layers || []).map(function (l) {
            var name = document.documentElement.lang === "en" && l.name_en ? l.name_en : l.name;
            var verdict = T.str(l.verdict).replace(/[^a-z_]/g, "");
            return E("li", { "class": "verdict-" + verdict, data: { layer: l.layer } }, [
              E("strong", null, name), ": " + (cfg.labels[verdict] || verdict) + " · " + fmt(l.overlap_m2, 2) + " m²"]);
          });
          T.replace(document, pre, [E("h3", null, cfg.labels.precheck), E("ul", { "class": "precheck-list" }, items)]);
        });
    }
    map.on(L.Draw.Event.CREATED, function (e) {
      if (OneMap.measuring) return; // a measurement, not part of the site
      drawn.addLayer(e.layer);
      sync();
    });
    map.on(L.Draw.Event.EDITED + " " + L.Draw.Event.DELETED, sync);
    OneMap.drawn = drawn;
    OneMap.syncSite = sync;
    if (cfg.parcelsUrl) OneMap.parcelPicker(map, cfg);
    OneMap.loadSite = function (geojson) {
      drawn.clearLayers();
      L.geoJSON(geojson).eachLayer(function (l) { drawn.addLayer(l); });
      if (drawn.getLayers().length) map.fitBounds(drawn.getBounds(), { maxZoom: 17 });
      sync();
    };
    if (input && input.value) OneMap.loadSite(JSON.parse(input.value));

    /* Upload preview: the file is read on the server exactly as the submission will read it and
     * shown on the map (dashed) with its area, parcels and warnings, or the error pinned. */
    var fileInput = cfg.fileInput && document.getElementById(cfg.fileInput);
    var preview = L.featureGroup().addTo(map);
    if (fileInput && cfg.previewUrl) {
      fileInput.addEventListener("change", function () {
        preview.clearLayers();
        if (!fileInput.files.length) return;
        var data = new FormData();
        data.append("file", fileInput.files[0]);
        show(cfg.labels.checking, false);
        fetch(cfg.previewUrl, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() }, body: data })
          .then(function (r) { return r.json().then(function (d) { return { ok: r.ok, data: d }; }); })
          .then(function (res) {
            if (!res.ok) {
              show(cfg.labels.invalid + " " + T.str(res.data && res.data.detail), true);
              pin(res.data && res.data.points);
              return;
            }
            pin([]);
            var d = res.data;
            L.geoJSON(d.site, { style: { color: "#d4380d", weight: 3, dashArray: "6 4", fillOpacity: 0.1 }, className: "site-preview" }).addTo(preview);
            map.fitBounds(preview.getBounds(), { maxZoom: 17 });
            var parts = Array.isArray(d.parts) ? d.parts.length : d.parts;
            var warnings = Array.isArray(d.warnings) ? d.warnings.map(T.str) : [];
            show([E("span", { "class": "preview-note" }, cfg.labels.preview), E("br")].concat(areas(d), [
              " (" + T.str(parts) + " " + cfg.labels.parts + ")",
              warnings.length ? E("br") : null,
              warnings.length ? E("span", { "class": "warnings" }, cfg.labels.warnings + ": " + warnings.join("; ")) : null,
            ]), false);
            map.fire("onemap:previewed", d);
            precheck(JSON.stringify(d.site));
          });
      });
    }
  };
})();

/* Overlap table ↔ map: clicking (or pressing Enter on) a row zooms the map to that layer/class's
 * overlap pieces and highlights them. */
(function () {
  "use strict";
  function piecesFor(map, layer, code) {
    var found = [];
    map.eachLayer(function (l) {
      var p = l.feature && l.feature.properties;
      if (p && p.layer === layer && p.class_code === code && l.getBounds) found.push(l);
    });
    return found;
  }
  function zoomTo(row) {
    var map = window.OneMap && window.OneMap.map;
    if (!map || !row.dataset.class) return;
    var pieces = piecesFor(map, row.dataset.layer, row.dataset.class);
    if (!pieces.length) return;
    var bounds = pieces[0].getBounds();
    pieces.forEach(function (l) { bounds.extend(l.getBounds()); l.setStyle({ weight: 4 }); });
    map.fitBounds(bounds, { maxZoom: 18, animate: false });
    document.querySelectorAll("tr.overlap-row.selected").forEach(function (r) { r.classList.remove("selected"); });
    row.classList.add("selected");
    map.fire("onemap:rowzoom", { layer: row.dataset.layer, code: row.dataset.class });
  }
  document.addEventListener("click", function (e) {
    var row = e.target.closest && e.target.closest("tr.overlap-row");
    if (row) zoomTo(row);
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && e.target.matches && e.target.matches("tr.overlap-row")) zoomTo(e.target);
  });
})();

/* Measuring tool: a distance (polyline, great-circle ≈) or an area (polygon: ellipsoidal m², mu,
 * computed by the server like every other area). Measurements are shown on the map, never saved. */
(function () {
  "use strict";
  var OneMap = window.OneMap;
  OneMap.measure = function (map, labels) {
    var results = L.featureGroup().addTo(map);
    var handlers = {
      length: new L.Draw.Polyline(map, { shapeOptions: { color: "#fa8c16", weight: 3 }, showLength: true, metric: true }),
      area: new L.Draw.Polygon(map, { shapeOptions: { color: "#fa8c16", weight: 2 }, showArea: true, metric: true }),
    };
    var Control = L.Control.extend({
      options: { position: "topleft" },
      onAdd: function () {
        var box = L.DomUtil.create("div", "leaflet-bar onemap-measure");
        [["length", "📏"], ["area", "⬠"], ["clear", "✕"]].forEach(function (b) {
          var a = L.DomUtil.create("a", "measure-" + b[0], box);
          a.href = "#";
          a.setAttribute("role", "button");
          a.title = b[0] === "clear" ? labels.clear : labels.title + " (" + labels[b[0]] + ")";
          a.setAttribute("aria-label", a.title);
          a.textContent = b[1];
          L.DomEvent.on(a, "click", function (ev) {
            L.DomEvent.stop(ev);
            if (b[0] === "clear") { results.clearLayers(); return; }
            OneMap.measuring = true;
            handlers[b[0]].enable();
          });
        });
        return box;
      },
    });
    new Control().addTo(map);
    map.on(L.Draw.Event.DRAWSTOP, function () { setTimeout(function () { OneMap.measuring = false; }, 0); });
    map.on(L.Draw.Event.CREATED, function (e) {
      if (!OneMap.measuring) return;
      var layer = e.layer.addTo(results);
      if (e.layerType === "polyline") {
        var pts = layer.getLatLngs(), m = 0;
        for (var i = 1; i < pts.length; i++) m += pts[i - 1].distanceTo(pts[i]);
        layer.bindTooltip(OneMap.E("span", null, labels.length + " ≈ " + OneMap.fmt(m, 1) + " m"), { permanent: true, className: "measure-result" }).openTooltip();
        map.fire("onemap:measured", { length_m: m });
        return;
      }
      fetch(OneMap.siteCheckUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": OneMap.csrfToken() },
        body: JSON.stringify(layer.toGeoJSON()),
      })
        .then(function (r) { return r.json(); })
        .then(function (d) {
          var text = d.area_m2 === undefined ? OneMap.text.str(d.detail) : labels.area + " " + OneMap.fmt(d.area_m2, 2) + " m² · " + OneMap.fmt(d.area_mu, 3) + " " + labels.mu;
          layer.bindTooltip(OneMap.E("span", null, text), { permanent: true, className: "measure-result" }).openTooltip();
          map.fire("onemap:measured", d);
        });
    });
  };
})();

/* Registered parcels on the drawing map (from zoom 15): click one to add it to the site (click
 * again to take it out), and new vertices snap to their corners and edges within SNAP_PX pixels. */
(function () {
  "use strict";
  var OneMap = window.OneMap;
  var SNAP_PX = 12;

  OneMap.parcelPicker = function (map, cfg) {
    OneMap.enableSnapping();
    var parcels = L.geoJSON(null, {
      style: { color: "#595959", weight: 1, dashArray: "2 3", fillOpacity: 0.02 },
      onEachFeature: function (f, l) {
        var p = f.properties || {};
        l.bindTooltip(function () {
          return OneMap.E("span", null, OneMap.text.str(p.code) + " · " + OneMap.text.str(p.land_class) + " · " + OneMap.fmt(p.area_m2, 1) + " m²");
        });
        l.on("click", function () { toggle(f); });
      },
    }).addTo(map);
    var picked = {};
    function toggle(f) {
      var code = f.properties.code;
      if (picked[code]) {
        OneMap.drawn.removeLayer(picked[code]);
        delete picked[code];
      } else {
        // not interactive: a second click reaches the parcel beneath and takes it out again
        var added = L.geoJSON(f.geometry, { style: { color: "#d4380d", weight: 2 }, interactive: false });
        picked[code] = added.getLayers()[0];
        picked[code].onemapParcel = code;
        OneMap.drawn.addLayer(picked[code]);
      }
      OneMap.syncSite();
      map.fire("onemap:parcelpicked", { code: code, picked: !!picked[code] });
    }
    OneMap.pickParcel = function (code) {
      parcels.eachLayer(function (l) { if (l.feature.properties.code === code) toggle(l.feature); });
    };
    var loadedKey = null;
    function load() {
      if (map.getZoom() < (cfg.parcelsMinZoom || 15)) { parcels.clearLayers(); loadedKey = null; return; }
      var b = map.getBounds();
      var key = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(5); }).join(",");
      if (key === loadedKey) return;
      fetch(cfg.parcelsUrl + "?in_bbox=" + key, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { features: [] }; })
        .then(function (fc) {
          loadedKey = key;
          parcels.clearLayers();
          parcels.addData(fc);
          OneMap.snapTargets = parcels;
          map.fire("onemap:parcelsloaded", { count: (fc.features || []).length });
          document.documentElement.dataset.parcelsLoaded = String((fc.features || []).length);
        });
    }
    map.on("moveend", load);
    load();
  };

  /* The nearest corner of the snap targets within SNAP_PX pixels of `latlng`, else the nearest
   * point on an edge within SNAP_PX (corners win: surveyors' boundaries meet at boundary points). */
  function snap(map, latlng) {
    var targets = OneMap.snapTargets;
    if (!targets) return latlng;
    var p = map.latLngToLayerPoint(latlng), view = map.getBounds();
    var corner = null, cornerD = SNAP_PX, edge = null, edgeD = SNAP_PX;
    targets.eachLayer(function (layer) {
      if (!layer.getLatLngs || !view.intersects(layer.getBounds())) return;
      (function walk(arr) {
        if (arr.length && arr[0].lat !== undefined) {
          for (var i = 0; i < arr.length; i++) {
            var a = map.latLngToLayerPoint(arr[i]), b = map.latLngToLayerPoint(arr[(i + 1) % arr.length]);
            var dc = p.distanceTo(a);
            if (dc <= cornerD) { cornerD = dc; corner = arr[i]; }
            var q = L.LineUtil.closestPointOnSegment(p, a, b), de = p.distanceTo(q);
            if (de <= edgeD) { edgeD = de; edge = map.layerPointToLatLng(q); }
          }
        } else arr.forEach(walk);
      })(layer.getLatLngs());
    });
    var best = corner || edge;
    return best ? L.latLng(best.lat, best.lng) : latlng;
  }
  OneMap.snap = snap;

  /* Leaflet.draw loads only on drawing pages: its vertex handler is wrapped once, when needed. */
  OneMap.enableSnapping = function () {
    if (!L.Draw || L.Draw.Polyline.prototype._onemapSnaps) return;
    var addVertex = L.Draw.Polyline.prototype.addVertex;
    L.Draw.Polyline.prototype.addVertex = function (latlng) {
      var snapped = OneMap.measuring ? latlng : snap(this._map, latlng);
      if (snapped !== latlng) this._map.fire("onemap:snapped", { from: latlng, to: snapped });
      return addVertex.call(this, snapped);
    };
    L.Draw.Polyline.prototype._onemapSnaps = true;
  };
})();
