// MathJax 3 (CHTML), served from this site (assets/mathjax/, copied out of the
// django-static-mathjax wheel by docs/hooks/site.py): no request leaves the site.
//
// pymdownx.arithmatex (generic) wraps every formula in .arithmatex with \( \) or
// \[ \] delimiters, so MathJax looks only there.
//
// Typesetting happens in exactly one place, `typesetPage`, once per page:
// - the first page: MathJax's own startup typeset is off (typeset: false), and
//   `ready` subscribes to Material's document$, which replays the current page
//   at once, so the first page is typeset once, after MathJax is ready;
// - pages reached by instant navigation: document$ emits the new document, the
//   old page's math items are forgotten (typesetClear) and the new page typeset.
// - a folded block (<details>) whose formulas are marked arithmatex-deferred (the
//   long terms of the gated cells' written-out sums): passed by until the reader
//   opens it, then renamed arithmatex and typeset, after whatever is under way.
// The output cache (the CSS of every glyph used so far) is never cleared: clearing
// it while the glyphs of the first page still rely on it makes them invisible.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
    // the written-out sums of the gated cells expand \operatorname once per factor:
    // MathJax's default 5 KiB for the expanded text of one formula is too small
    maxBuffer: 100 * 1024,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
  },
  startup: {
    typeset: false,
    ready() {
      MathJax.startup.defaultReady();
      const typesetPage = () => {
        MathJax.startup.promise = MathJax.startup.promise
          .then(() => {
            MathJax.typesetClear();
            MathJax.texReset();
            return MathJax.typesetPromise();
          })
          .catch((error) => console.error("MathJax typesetting failed:", error));
        return MathJax.startup.promise;
      };
      // toggle does not bubble: caught on its way down, for every page the site shows
      document.addEventListener("toggle", (event) => {
        const block = event.target;
        if (!(block instanceof HTMLDetailsElement) || !block.open) return;
        const waiting = block.querySelectorAll(".arithmatex-deferred");
        if (!waiting.length) return;
        waiting.forEach((el) => el.classList.replace("arithmatex-deferred", "arithmatex"));
        MathJax.startup.promise = MathJax.startup.promise
          .then(() => MathJax.typesetPromise([block]))
          .catch((error) => console.error("MathJax typesetting failed:", error));
      }, true);
      if (typeof document$ !== "undefined") {
        document$.subscribe(typesetPage);
      } else {
        typesetPage();
      }
    },
  },
};
