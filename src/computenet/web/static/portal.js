// Charts of the computenet portal: every element with data-chart holds
// {"x": [epoch seconds], "series": [{"label", "values"}]} drawn with uPlot;
// with "labels", x is the points' index and each point is named by its label.
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
    var xAxis = {};
    var scales = {};
    if (data.labels) {
      scales = { x: { time: false } };
      xAxis = { splits: function () { return data.x; },
                values: function (u, vals) {
                  return vals.map(function (v) { return data.labels[v] || ""; }); } };
      series[0] = { label: "within", value: function (u, v) {
        return v == null ? "-" : data.labels[v]; } };
    }
    var yAxis = { size: 70, values: function (u, vals) {
      return vals.map(function (v) { return +v.toPrecision(3) + " " + unit; }); } };
    // counts (nodes) have whole ticks only
    if (data.labels) yAxis.incrs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
    new uPlot({ width: width, height: 200, series: series, scales: scales,
                axes: [xAxis, yAxis] },
              columns, el);
    el.dataset.drawn = "1";
  }

  function drawAll(root) {
    (root || document).querySelectorAll("[data-chart]").forEach(draw);
  }

  // Times come as <time datetime="...Z" title="... UTC">: show them in the
  // browser's time zone; the title keeps UTC.
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function local(root) {
    (root || document).querySelectorAll("time[datetime]").forEach(function (el) {
      if (el.dataset.local) return;
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d.getTime())) return;
      el.textContent = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) +
        " " + pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
      el.dataset.local = "1";
    });
  }

  // The log: what the job writes next is added at its end, which stays in
  // view if it was; earlier lines are added at its start without moving
  // what is in view.
  function watchLog() {
    var log = document.getElementById("log");
    if (!log || log.dataset.watched) return;
    log.dataset.watched = "1";
    var stick = true, earlier = false, height = log.scrollHeight;
    log.scrollTop = log.scrollHeight;
    log.addEventListener("scroll", function () {
      stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    });
    document.addEventListener("htmx:beforeSwap", function (e) {
      if (e.detail.target && e.detail.target.id === "log-earlier-slot") earlier = true;
    });
    new MutationObserver(function () {
      if (earlier) log.scrollTop += log.scrollHeight - height;
      else if (stick) log.scrollTop = log.scrollHeight;
      earlier = false;
      height = log.scrollHeight;
    }).observe(log, { childList: true });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawAll(document);
    local(document);
    watchLog();
  });
  // every part htmx puts in the page (the jobs list's rows, a job's facts)
  document.addEventListener("htmx:load", function (e) { drawAll(e.target); local(e.target); });
})();
