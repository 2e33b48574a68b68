// Marks each table wrapper whose table is wider than the column ("scrolls"), so the stylesheet
// pins the first column and shades the right edge, and puts a one-line cue above it.
(function () {
  "use strict";
  function mark() {
    document.querySelectorAll(".table-wrapper").forEach(function (wrapper) {
      var scrolls = wrapper.scrollWidth > wrapper.clientWidth + 1;
      wrapper.classList.toggle("scrolls", scrolls);
      var cue = wrapper.previousElementSibling;
      var hasCue = cue && cue.classList.contains("scroll-cue");
      if (scrolls && !hasCue) {
        cue = document.createElement("p");
        cue.className = "scroll-cue";
        cue.textContent = "Scroll sideways for more columns \u2192";
        wrapper.parentNode.insertBefore(cue, wrapper);
      } else if (!scrolls && hasCue) {
        cue.remove();
      }
    });
  }
  document.addEventListener("DOMContentLoaded", mark);
  window.addEventListener("load", mark);
  window.addEventListener("resize", mark);
})();
