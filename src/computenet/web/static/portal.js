// Charts of the computenet portal: every element with data-chart holds
// {"x": [epoch seconds], "series": [{"label", "values"}]} drawn with uPlot.
(function () {
  "use strict";
  var colours = ["#1f6feb", "#d1242f", "#1a7f37", "#9a6700"];

  function draw(el) {
    if (el.dataset.drawn || typeof uPlot === "undefined") return;
    var data = JSON.parse(el.dataset.chart);
    var unit = el.dataset.unit || "";
    var series = [{}];
    var columns = [data.x];
    data.series.forEach(function (s, i) {
      series.push({ label: s.label, stroke: colours[i % colours.length], width: 2,
                    points: { show: true } });
      columns.push(s.values);
    });
    var width = Math.max(280, el.clientWidth || 480);
    new uPlot({ width: width, height: 200, series: series,
                axes: [{}, { size: 70, values: function (u, vals) {
                  return vals.map(function (v) { return +v.toPrecision(3) + " " + unit; }); } }] },
              columns, el);
    el.dataset.drawn = "1";
  }

  function drawAll(root) {
    (root || document).querySelectorAll("[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSwap", function (e) { drawAll(e.target); });
  // A live log tail stays scrolled to its end.
  document.addEventListener("htmx:afterSwap", function (e) {
    var log = document.getElementById("log");
    if (log) log.scrollTop = log.scrollHeight;
  });
})();
