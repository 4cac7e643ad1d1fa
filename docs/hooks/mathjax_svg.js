// Draws the site's formulas as SVG with MathJax 3 (npm mathjax-full, pinned in
// package.json), for docs/hooks/mathjax_svg.py: one process per build, fed over stdin.
//
// Protocol, one JSON object a line each way:
//   start        -> {"ready": true, "version": "3.2.2"}
//   {"stylesheet": true}                      -> {"css": "..."} (MathJax's CSS for its SVG)
//   {"formulas": [{"tex": "...", "display": true}, ...]}
//                -> {"results": [{"html": "<mjx-container ...>"} | {"error": "..."}, ...]}
// A TeX error is returned for its formula (never drawn in red): the caller fails the build.
"use strict";

const readline = require("readline");
const { mathjax } = require("mathjax-full/js/mathjax.js");
const { TeX } = require("mathjax-full/js/input/tex.js");
const { SVG } = require("mathjax-full/js/output/svg.js");
const { liteAdaptor } = require("mathjax-full/js/adaptors/liteAdaptor.js");
const { RegisterHTMLHandler } = require("mathjax-full/js/handlers/html.js");
const { AssistiveMmlHandler } = require("mathjax-full/js/a11y/assistive-mml.js");
const { AllPackages } = require("mathjax-full/js/input/tex/AllPackages.js");
const { VERSION } = require("mathjax-full/js/components/version.js");

// Every package that needs no loading at run time, less the two that hide errors:
// noerrors (shows the TeX source of a broken formula) and noundefined (draws an
// unknown macro in red). Without them a TeX error throws, and the build fails.
const HIDES_ERRORS = new Set(["noerrors", "noundefined", "autoload", "require"]);
const CONFIG = JSON.parse(process.argv[2] || "{}");

const adaptor = liteAdaptor();
AssistiveMmlHandler(RegisterHTMLHandler(adaptor));
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

function draw(formula) {
  try {
    tex.parseOptions.tags.reset();
    const node = html.convert(formula.tex, { display: formula.display, em: 16, ex: 8 });
    return { html: adaptor.outerHTML(node) };
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
  let reply;
  try {
    reply = answer(JSON.parse(line));
  } catch (error) {
    reply = { error: `bad request: ${error.message}` };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
});
process.stdout.write(JSON.stringify({ ready: true, version: VERSION }) + "\n");
