/* A parcel's lineage map: the parcel (filled), its predecessors and successors (outlined, retired
 * dashed), from the GeoJSON the page embeds as JSON (json_script, never executed). Leaflet is the
 * vendored copy; no base map, nothing fetched from elsewhere. Labels are text tooltips. */
const box = document.getElementById("lineage-map");
const source = document.getElementById("lineage-data");
if (box && source && window.L) {
  const data = JSON.parse(source.textContent);
  const map = window.L.map(box, { attributionControl: false });
  const layer = window.L.geoJSON(data, {
    style: (f) => ({
      color: f.properties.current ? "#c0392b" : f.properties.status === "retired" ? "#7f8c8d" : "#2c7be5",
      weight: f.properties.current ? 3 : 2,
      dashArray: f.properties.status === "retired" ? "6 4" : null,
      fillOpacity: f.properties.current ? 0.35 : 0.1,
    }),
    onEachFeature: (f, l) => {
      const label = document.createElement("span");
      const state = f.properties.current ? box.dataset.current : (f.properties.status === "retired" ? box.dataset.retired : box.dataset.registered);
      label.textContent = `${f.properties.code} · ${state} · ${Number(f.properties.area_m2).toFixed(2)} m²`;
      l.bindTooltip(label, { sticky: true });
    },
  }).addTo(map);
  const bounds = layer.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds.pad(0.2));
  else map.setView([29.97, 113.92], 14);
}
