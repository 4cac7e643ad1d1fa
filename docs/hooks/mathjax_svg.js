// Draws the site's formulas as SVG with MathJax 3 (npm mathjax-full, pinned in
// package.json), for docs/hooks/mathjax_svg.py: one process per build, fed over stdin.
//
// Protocol, one JSON object a line each way:
//   start        -> {"ready": true, "version": "3.2.2"}
//   {"stylesheet": true}                      -> {"css": "..."} (MathJax's CSS for its SVG)
//   {"formulas": [{"tex": "...", "display": true}, ...]}
//                -> {"results": [{"html": "<mjx-container ...>"} | {"error": "..."}, ...]}
// Each answer also says how long it took ("ms").
// A TeX error is returned for its formula (never drawn in red): the caller fails the build.
"use strict";

const readline = require("readline");
const { mathjax } = require("mathjax-full/js/mathjax.js");
const { TeX } = require("mathjax-full/js/input/tex.js");
const { SVG } = require("mathjax-full/js/output/svg.js");
const { liteAdaptor } = require("mathjax-full/js/adaptors/liteAdaptor.js");
const { RegisterHTMLHandler } = require("mathjax-full/js/handlers/html.js");
const { STATE } = require("mathjax-full/js/core/MathItem.js");
const { AllPackages } = require("mathjax-full/js/input/tex/AllPackages.js");
const { VERSION } = require("mathjax-full/js/components/version.js");

// Every package that needs no loading at run time, less the two that hide errors:
// noerrors (shows the TeX source of a broken formula) and noundefined (draws an
// unknown macro in red). Without them a TeX error throws, and the build fails.
const HIDES_ERRORS = new Set(["noerrors", "noundefined", "autoload", "require"]);
const CONFIG = JSON.parse(process.argv[2] || "{}");

const adaptor = liteAdaptor();
RegisterHTMLHandler(adaptor);
const tex = new TeX({
  packages: AllPackages.filter((name) => !HIDES_ERRORS.has(name)),
  formatError: (jax, error) => {
    throw error;
  },
  ...CONFIG.tex,
});
// a local font cache: each SVG holds the glyphs it uses (no page-wide <defs> to share),
// under ids made of CONFIG.localID, which the caller renumbers per page
const svg = new SVG({ fontCache: "local", localID: CONFIG.localID });
const html = mathjax.document("", { InputJax: tex, OutputJax: svg });

// MathJax's markup, less what nothing reads: the MathML node names and TeX classes of
// every group and the code point of every glyph (data-*: kept where MathJax's CSS
// selects on them: mtable, merror, maction) and the namespaces (inline SVG in HTML needs
// none; its parser knows xlink:href, which stays: Material's instant navigation sets
// the href of every element with an href attribute, and SVG's is read-only). A
// written-out sum of the gated cells holds tens of thousands of groups: the heaviest
// page weighs a third less, and parses faster.
function compact(markup) {
  return markup
    .replace(/ data-mml-node="(?!mtable"|merror"|maction")[^"]*"/g, "")
    .replace(/ data-c="[^"]*"/g, "")
    .replace(/ data-mjx-texclass="[^"]*"/g, "")
    .replace(/ xmlns(:xlink)?="[^"]*"/g, "");
}

// Fewer elements, the same picture: the browser's time on a page of long sums goes to
// styling and laying out tens of thousands of SVG elements. A group without attributes
// is dropped (its children kept); a group holding a single glyph and nothing else
// hands its transform to the glyph (the group's transform applies first).
const SINGLE_GLYPH =
  /<g transform="([^"]*)"><use xlink:href="([^"]*)"(?: transform="([^"]*)")?><\/use><\/g>/g;

function flatten(markup) {
  const kept = [];
  let out = markup.replace(/<g(?: [^>]*)?>|<\/g>/g, (tag) => {
    if (tag === "</g>") return kept.pop() ? "</g>" : "";
    kept.push(tag !== "<g>");
    return tag === "<g>" ? "" : tag;
  });
  for (let before = ""; before !== out; ) {
    before = out;
    out = out.replace(SINGLE_GLYPH, (_, outer, href, inner) =>
      `<use xlink:href="${href}" transform="${inner ? `${outer} ${inner}` : outer}"></use>`);
  }
  return out;
}

// use[data-c] in MathJax's CSS (the glyphs' outline width), for the glyphs without it
const GLYPH_RULE = '\nmjx-container[jax="SVG"] use {\n  stroke-width: 3;\n}\n';

// What html.convert() does; the TeX, kept beside the drawing by the caller, is what
// screen readers read (the SVG is aria-hidden), so no assistive MathML is added.
function typeset(formula) {
  const item = new html.options.MathItem(formula.tex, tex, formula.display);
  item.start.node = adaptor.body(html.document);
  item.setMetrics(16, 8, 80 * 8, 1000000, 1); // em, ex, containerWidth: convert()'s defaults
  item.convert(html, STATE.LAST);
  const root = item.typesetRoot;
  adaptor.setAttribute(adaptor.firstChild(root), "aria-hidden", "true");
  return flatten(compact(adaptor.outerHTML(root)));
}

function draw(formula) {
  try {
    tex.parseOptions.tags.reset();
    return { html: typeset(formula) };
  } catch (error) {
    return { error: String(error && error.message ? error.message : error) };
  }
}

function answer(request) {
  if (request.stylesheet) return { css: adaptor.textContent(svg.styleSheet(html)) + GLYPH_RULE };
  if (Array.isArray(request.formulas)) return { results: request.formulas.map(draw) };
  return { error: `unknown request: ${JSON.stringify(request).slice(0, 200)}` };
}

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
  const started = process.hrtime.bigint();
  let reply;
  try {
    reply = answer(JSON.parse(line));
  } catch (error) {
    reply = { error: `bad request: ${error.message}` };
  }
  reply.ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(JSON.stringify(reply) + "\n");
});
process.stdout.write(JSON.stringify({ ready: true, version: VERSION }) + "\n");
