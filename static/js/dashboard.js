// spoke: the campaign Dashboard's chart (uPlot, loaded on demand) and polling only while the
// tab is visible. The page works without this file: the numbers are also in a table, and a
// Refresh link reloads the page. No inline script and no eval: it runs under the CSP.
(function () {
  "use strict";

  // Polling: htmx re-requests [data-poll-when-visible] `load delay:15s` after each swap. A poll
  // due while the tab is hidden is cancelled; coming back to the tab polls at once.
  document.addEventListener("htmx:beforeRequest", function (e) {
    var el = e.detail && e.detail.elt;
    if (!el || !el.hasAttribute || !el.hasAttribute("data-poll-when-visible")) return;
    if (document.visibilityState !== "visible") {
      e.preventDefault();
      el.setAttribute("data-poll-paused", "1");
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible" || !window.htmx) return;
    document.querySelectorAll("[data-poll-when-visible][data-poll-paused]").forEach(function (el) {
      el.removeAttribute("data-poll-paused");
      window.htmx.trigger(el, "visible-again");
    });
  });

  // Charts: [data-chart] holds {"t": [epoch s], "sent": [...], "received": [...]} (UTC).
  var plots = [];
  var loading = null;

  function loadUplot(el, done) {
    if (window.uPlot) return done();
    if (!loading) {
      loading = [];
      var css = document.createElement("link");
      css.rel = "stylesheet";
      css.href = el.getAttribute("data-chart-css");
      document.head.appendChild(css);
      var script = document.createElement("script");
      script.src = el.getAttribute("data-chart-lib");
      script.onload = function () { loading.forEach(function (f) { f(); }); loading = []; };
      document.head.appendChild(script);
    }
    loading.push(done);
  }

  function draw(el) {
    if (el.getAttribute("data-drawn")) return;
    el.setAttribute("data-drawn", "1");
    var d = JSON.parse(el.getAttribute("data-chart"));
    var opts = {
      width: Math.max(280, el.clientWidth),
      height: 260,
      tzDate: function (ts) { return window.uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"); },
      scales: {
        x: { time: true },
        y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } }
      },
      series: [
        {},
        { label: "Texts sent", stroke: "#1f5fbf", width: 2, fill: "rgba(31,95,191,0.08)" },
        { label: "Replies received", stroke: "#1b7a3d", width: 2 }
      ],
      // Whole texts only on the y axis: no 0.5 ticks.
      axes: [{}, { label: "Texts", incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5] }]
    };
    plots.push({ el: el, plot: new window.uPlot(opts, [d.t, d.sent, d.received], el) });
  }

  function drawAll(root) {
    var els = (root || document).querySelectorAll ? (root || document).querySelectorAll("[data-chart]") : [];
    if (!els.length) return;
    // Forget plots whose element a poll replaced.
    plots = plots.filter(function (p) {
      if (document.body.contains(p.el)) return true;
      p.plot.destroy();
      return false;
    });
    loadUplot(els[0], function () { els.forEach(draw); });
  }

  window.addEventListener("resize", function () {
    plots.forEach(function (p) { p.plot.setSize({ width: Math.max(280, p.el.clientWidth), height: 260 }); });
  });
  document.addEventListener("htmx:afterSettle", function (e) { drawAll(document); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  } else {
    drawAll(document);
  }
})();
