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
    new uPlot({ width: width, height: 200, series: series, scales: scales,
                axes: [xAxis, { size: 70, values: function (u, vals) {
                  return vals.map(function (v) { return +v.toPrecision(3) + " " + unit; }); } }] },
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
  // view if it was; earlier lines are added at its start without moving it.
  var logState = null;
  document.addEventListener("htmx:beforeSwap", function (e) {
    var log = document.getElementById("log");
    var id = e.detail.target && e.detail.target.id;
    if (!log || (id !== "log-follow" && id !== "log-earlier-slot")) { logState = null; return; }
    logState = { id: id, height: log.scrollHeight,
                 atEnd: log.scrollTop + log.clientHeight >= log.scrollHeight - 4 };
  });

  function afterSwap(e) {
    drawAll(e.target);
    local(document);
    var log = document.getElementById("log");
    if (!log || !logState) return;
    if (logState.id === "log-follow" && logState.atEnd) log.scrollTop = log.scrollHeight;
    if (logState.id === "log-earlier-slot") log.scrollTop += log.scrollHeight - logState.height;
    logState = null;
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawAll(document);
    local(document);
    var log = document.getElementById("log");
    if (log) log.scrollTop = log.scrollHeight;
  });
  document.addEventListener("htmx:afterSwap", afterSwap);
  document.addEventListener("htmx:oobAfterSwap", function () { local(document); });
})();
