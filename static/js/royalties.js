// Payout chart: the SVG is rendered on the server; this only reads a bar's
// figures out loud (hover or keyboard focus) into the caption. No library.
(function () {
  "use strict";
  document.querySelectorAll("[data-royalties-chart]").forEach(function (svg) {
    const out = svg.closest("figure").querySelector(".royalties-chart-readout");
    if (!out) return;
    function show(g) {
      out.textContent = g.dataset.label + ": earned " + g.dataset.earned + ", paid " + g.dataset.paid;
    }
    svg.querySelectorAll(".bar-group").forEach(function (g) {
      g.addEventListener("mouseenter", function () { show(g); });
      g.addEventListener("focus", function () { show(g); });
    });
  });
})();
