/* node --test: maps/static/maps/js/onemap-text.js turns data into text, never HTML.
 * A minimal fake document records what the helpers build; its innerHTML setter throws, so a
 * helper that ever assigned HTML would fail here. */
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");

const T = require(path.join(__dirname, "..", "..", "maps", "static", "maps", "js", "onemap-text.js"));

const PAYLOADS = [
  '<img src=x onerror=alert(1)>',
  '"><svg onload=alert(2)>',
  "</script><script>alert(3)</script>",
  "' onmouseover='alert(4)",
  "javascript:alert(5)",
  "&lt;b&gt;",
];

class Node {
  constructor(doc, name, ns) { this.doc = doc; this.nodeName = name; this.namespaceURI = ns || null; this.nodeType = 1; this.childNodes = []; this.attributes = {}; this.className = ""; }
  get firstChild() { return this.childNodes[0] || null; }
  appendChild(c) { this.childNodes.push(c); return c; }
  removeChild(c) { this.childNodes.splice(this.childNodes.indexOf(c), 1); return c; }
  setAttribute(k, v) { this.attributes[k] = String(v); }
  set innerHTML(_v) { throw new Error("innerHTML used"); }
  get textContent() { return this.childNodes.map((c) => c.textContent).join(""); }
}
class Text { constructor(t) { this.nodeType = 3; this.data = t; } get textContent() { return this.data; } }
const doc = {
  createElement: (n) => new Node(doc, n),
  createElementNS: (ns, n) => new Node(doc, n, ns),
  createTextNode: (t) => new Text(t),
};
const elements = (n) => (n.nodeType === 1 ? [n, ...n.childNodes.flatMap(elements)] : []);

test("esc escapes every character that can open a tag or end an attribute", () => {
  for (const p of PAYLOADS) {
    const out = T.esc(p);
    assert.doesNotMatch(out, /[<>"']/, p);
  }
  assert.equal(T.esc('<a href="x">&'), "&lt;a href=&quot;x&quot;&gt;&amp;");
  assert.equal(T.esc(null), "");
  assert.equal(T.str(["bad <x>", 2, null]), "bad <x>; 2; ");
  assert.equal(T.esc({ a: "<b>" }), "{&quot;a&quot;:&quot;&lt;b&gt;&quot;}");
});

test("el puts strings in as text nodes, whatever they contain", () => {
  for (const p of PAYLOADS) {
    const node = T.el(doc, "div", { "class": "x" }, ["a ", p, T.el(doc, "strong", null, p)]);
    assert.equal(node.textContent, "a " + p + p);
    assert.deepEqual(elements(node).map((e) => e.nodeName), ["div", "strong"]);
  }
});

test("el refuses event handler and style attributes and writes data attributes as values", () => {
  assert.throws(() => T.el(doc, "div", { onclick: "alert(1)" }), /no event handler/);
  assert.throws(() => T.el(doc, "div", { OnMouseOver: "alert(1)" }), /no event handler/);
  assert.throws(() => T.el(doc, "div", { style: "background:url(x)" }), /style/);
  const li = T.el(doc, "li", { data: { layer: PAYLOADS[1] } });
  assert.equal(li.attributes["data-layer"], PAYLOADS[1]);
});

test("table shows labels and values (strings, numbers, objects, null) as text", () => {
  const rows = T.fieldRows({ title: PAYLOADS[0], n: 3, o: { k: "<i>" }, z: null }, ["title", "n", "o", "z"], ["T", "N"]);
  assert.deepEqual(rows, [["T", PAYLOADS[0]], ["N", 3], ["o", { k: "<i>" }], ["z", null]]);
  const t = T.table(doc, [[PAYLOADS[2], PAYLOADS[0]], ["o", { k: "<i>" }], ["z", null]]);
  const cells = elements(t).filter((e) => e.nodeName === "th" || e.nodeName === "td").map((e) => e.textContent);
  assert.deepEqual(cells, [PAYLOADS[2], PAYLOADS[0], "o", '{"k":"<i>"}', "z", ""]);
  assert.deepEqual([...new Set(elements(t).map((e) => e.nodeName))], ["table", "tbody", "tr", "th", "td"]);
});

test("colours are #rrggbb or a grey: nothing else reaches an SVG fill or the switcher's HTML", () => {
  assert.equal(T.color("#d4B106"), "#d4B106");
  for (const bad of ['red" onload="alert(1)', "#12345", "#1234567", "url(x)", null, undefined, "javascript:alert(1)"]) {
    assert.equal(T.color(bad), "#8c8c8c");
    assert.match(T.swatchHtml(bad), /fill="#8c8c8c"/);
    const svg = T.swatch(doc, bad);
    assert.equal(svg.childNodes[0].attributes.fill, "#8c8c8c");
  }
  assert.equal(T.swatch(doc, "#00ff00", "line").attributes.class, "legend-line");
});

test("replace empties an element and fills it with text", () => {
  const out = T.el(doc, "p", null, ["old", T.el(doc, "b")]);
  T.replace(doc, out, ["Invalid site: ", PAYLOADS[0]]);
  assert.equal(out.textContent, "Invalid site: " + PAYLOADS[0]);
  assert.equal(elements(out).length, 1);
});
