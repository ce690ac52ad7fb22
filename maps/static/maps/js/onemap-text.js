/* Text, never HTML. Every string that comes from users, uploaded files or layers (titles, layer and
 * class names, attributes, error messages quoting a file) reaches the page through these helpers:
 * DOM nodes whose text is set with text nodes, or, where a library only takes an HTML string
 * (Leaflet's layer switcher), `esc`. Nothing here assigns innerHTML.
 *
 * A classic script (folium's inline map script calls OneMap synchronously, which an ES module,
 * being deferred, could not serve); under node it exports the same functions for `node --test`. */
(function (root, factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    var OneMap = (root.OneMap = root.OneMap || { maps: [] });
    OneMap.text = api;
  }
})(typeof window !== "undefined" ? window : this, function () {
  "use strict";
  var SVG_NS = "http://www.w3.org/2000/svg";
  var HEX = /^#[0-9a-fA-F]{6}$/;
  var FALLBACK_COLOR = "#8c8c8c";

  /* The text of any value as a string (null/undefined → "", lists joined by "; " as the server's
   * lists of messages are, other objects as JSON). */
  function str(value) {
    if (value === null || value === undefined) return "";
    if (Array.isArray(value)) return value.map(str).join("; ");
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  /* HTML-escaped text, for the few library calls that only accept an HTML string. */
  function esc(value) {
    return str(value)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&#39;");
  }

  /* A colour that is surely a #rrggbb hex (layer colours are checked by the database too). */
  function color(value) {
    return HEX.test(str(value)) ? str(value) : FALLBACK_COLOR;
  }

  /* el(doc, "li", {class: "x", data: {layer: "a"}, title: "t"}, [child, "text", ...]): strings
   * become text nodes; attributes are set one by one (never a style attribute, which CSP refuses). */
  function el(doc, tag, attrs, children) {
    var node = doc.createElement(tag);
    var a = attrs || {};
    Object.keys(a).forEach(function (k) {
      if (a[k] === undefined || a[k] === null || a[k] === false) return;
      if (k === "class") node.className = str(a[k]);
      else if (k === "data") Object.keys(a.data).forEach(function (d) { node.setAttribute("data-" + d, str(a.data[d])); });
      else if (/^on/i.test(k) || k === "style") throw new Error("el(): no event handler or style attributes");
      else node.setAttribute(k, a[k] === true ? "" : str(a[k]));
    });
    append(doc, node, children);
    return node;
  }

  function append(doc, node, children) {
    (Array.isArray(children) ? children : children === undefined ? [] : [children]).forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      node.appendChild(typeof c === "object" && c.nodeType ? c : doc.createTextNode(str(c)));
    });
    return node;
  }

  /* Replaces an element's content with `children` (text or nodes). */
  function replace(doc, node, children) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return append(doc, node, children);
  }

  /* A colour swatch as SVG: its colour is a presentation attribute, not a style. */
  function swatch(doc, value, shape) {
    var line = shape === "line";
    var svg = doc.createElementNS(SVG_NS, "svg");
    svg.setAttribute("class", line ? "legend-line" : "legend-swatch");
    svg.setAttribute("viewBox", line ? "0 0 16 3" : "0 0 1 1");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var rect = doc.createElementNS(SVG_NS, "rect");
    rect.setAttribute("width", line ? "16" : "1");
    rect.setAttribute("height", line ? "3" : "1");
    rect.setAttribute("fill", color(value));
    svg.appendChild(rect);
    return svg;
  }

  /* The same swatch as an HTML string, for Leaflet's layer switcher (its names are HTML). */
  function swatchHtml(value) {
    return '<svg class="legend-swatch" viewBox="0 0 1 1" aria-hidden="true" focusable="false">' +
      '<rect width="1" height="1" fill="' + color(value) + '"></rect></svg>';
  }

  /* A two-column table of [label, value] rows, as text. */
  function table(doc, rows, attrs) {
    return el(doc, "table", attrs, [
      el(doc, "tbody", null, rows.map(function (r) {
        return el(doc, "tr", null, [el(doc, "th", { scope: "row" }, str(r[0])), el(doc, "td", null, str(r[1]))]);
      })),
    ]);
  }

  /* [label, value] rows for a feature's properties: `fields` in order, labelled by `aliases`. */
  function fieldRows(properties, fields, aliases) {
    var p = properties || {};
    return fields.map(function (f, i) { return [aliases && aliases[i] !== undefined ? aliases[i] : f, p[f]]; });
  }

  return { str: str, esc: esc, color: color, el: el, append: append, replace: replace, swatch: swatch,
           swatchHtml: swatchHtml, table: table, fieldRows: fieldRows };
});
