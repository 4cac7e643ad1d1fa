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
const { SerializedMmlVisitor } = require("mathjax-full/js/core/MmlTree/SerializedMmlVisitor.js");
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

const mathml = new SerializedMmlVisitor(html.mmlFactory);
const CLOSE = "</mjx-container>";

// What html.convert() does, with the assistive MathML of MathJax's a11y/assistive-mml
// (the same markup) added as text: that handler parses the serialized MathML back into
// nodes, which for the longest written-out sums (50 kB of TeX) took 10 s of 20.
function typeset(formula) {
  const item = new html.options.MathItem(formula.tex, tex, formula.display);
  item.start.node = adaptor.body(html.document);
  item.setMetrics(16, 8, 80 * 8, 1000000, 1); // em, ex, containerWidth: convert()'s defaults
  item.convert(html, STATE.LAST);
  const root = item.typesetRoot;
  adaptor.setAttribute(adaptor.firstChild(root), "aria-hidden", "true");
  adaptor.setStyle(root, "position", "relative");
  const mml = mathml.visitTree(item.root).replace(/\n */g, "").replace(/<!--.*?-->/g, "");
  const display = formula.display ? "block" : "inline";
  const hidden = `<mjx-assistive-mml unselectable="on" display="${display}">${mml}</mjx-assistive-mml>`;
  const drawn = adaptor.outerHTML(root);
  return drawn.slice(0, -CLOSE.length) + hidden + CLOSE;
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
  if (request.stylesheet) return { css: adaptor.textContent(svg.styleSheet(html)) };
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
