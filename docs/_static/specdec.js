// Wide content scrolls sideways inside its own box. This script marks each table wrapper, each
// diagram and each display formula wider than the column ("scrolls"), so the stylesheet pins a table's first column
// and shades its right edge, and puts a one-line cue above it. Diagrams are drawn after the page
// loads, so the marks are refreshed whenever the page's content changes and on resize.
(function () {
  "use strict";
  var CUES = [
    [".table-wrapper", "Scroll sideways for more columns \u2192"],
    ["pre.mermaid", "Scroll sideways to see the whole diagram \u2192"],
    ["div.math", "Scroll sideways to see the whole formula \u2192"],
  ];
  function mark() {
    CUES.forEach(function (pair) {
      document.querySelectorAll(pair[0]).forEach(function (box) {
        var scrolls = box.scrollWidth > box.clientWidth + 1;
        box.classList.toggle("scrolls", scrolls);
        var cue = box.previousElementSibling;
        var hasCue = !!cue && cue.classList.contains("scroll-cue");
        if (scrolls && !hasCue) {
          cue = document.createElement("p");
          cue.className = "scroll-cue";
          cue.textContent = pair[1];
          box.parentNode.insertBefore(cue, box);
        } else if (!scrolls && hasCue) {
          cue.remove();
        }
      });
    });
  }
  // On a phone the comparison matrix becomes one card per family (specdec.css): each cell is
  // labelled with its column's heading.
  function label() {
    document.querySelectorAll("#comparison-matrix table").forEach(function (table) {
      var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
        var copy = th.cloneNode(true);
        copy.querySelectorAll(".footnote-reference").forEach(function (ref) { ref.remove(); });
        copy.querySelectorAll(".math").forEach(function (math) {  // TeX source, or typeset by MathJax
          var mml = math.querySelector("mjx-assistive-mml");
          math.textContent = mml ? mml.textContent : window.specdecPlainTeX(math.textContent);
        });
        return copy.textContent.replace(/\s+/g, " ").trim();
      });
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        Array.prototype.forEach.call(tr.cells, function (td, i) {
          if (i > 0 && heads[i]) td.setAttribute("data-label", heads[i]);
        });
      });
    });
  }
  var pending = null;
  function later() {
    if (pending === null) {
      pending = window.requestAnimationFrame(function () { pending = null; mark(); });
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    label();
    mark();
    // mark() is idempotent, so the mutations it causes itself settle after one more pass
    new MutationObserver(later).observe(document.querySelector("article") || document.body, {childList: true, subtree: true});
  });
  window.addEventListener("load", mark);
  window.addEventListener("resize", later);
})();

// Search-result snippets are cut from each page's text, where a formula is still its TeX source
// (\(\alpha\)). Before Sphinx's search reads a page, formulas are rewritten as plain text: Greek
// letters as letters, \text{..} and \mathbb{..} unwrapped, delimiters and other commands dropped.
(function () {
  "use strict";
  var GREEK = {alpha: "α", beta: "β", gamma: "γ", tau: "τ", epsilon: "ε", delta: "δ", lambda: "λ",
               sum: "Σ", cdot: "·", mid: "|", le: "≤", ge: "≥", approx: "≈", dots: "…", sim: "~"};
  function plainTeX(tex) {
    return tex
      .replace(/^\\[([]|\\[)\]]$/g, "")
      .replace(/\\(?:text|mathbb|mathrm|operatorname|hat)\{([^{}]*)\}/g, "$1")
      .replace(/\\([A-Za-z]+)/g, function (m, name) { return GREEK[name] !== undefined ? GREEK[name] : name; })
      .replace(/\\[,;:! ]/g, " ")
      .replace(/[{}]/g, "")
      .replace(/\s+/g, " ")
      .trim();
  }
  window.specdecPlainTeX = plainTeX;
  function patch() {
    if (typeof Search === "undefined" || !Search.htmlToText || Search.htmlToText.specdec) return;
    var original = Search.htmlToText;
    Search.htmlToText = function (htmlString, anchor) {
      var doc = new DOMParser().parseFromString(htmlString, "text/html");
      doc.querySelectorAll(".math").forEach(function (el) { el.textContent = plainTeX(el.textContent); });
      return original(doc.documentElement.outerHTML, anchor);
    };
    Search.htmlToText.specdec = true;
  }
  patch();
  document.addEventListener("DOMContentLoaded", patch);
})();
