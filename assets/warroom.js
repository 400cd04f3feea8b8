// Clientside pieces: they must work when the server does not answer, and cost the server nothing.
(function () {
  // Tell the server which live panel the pointer is over: that panel stops re-rendering until it
  // leaves, so a strategist's click never lands on a row that was just replaced.
  var held = null;
  function hold(name) {
    if (name === held || !window.dash_clientside || !window.dash_clientside.set_props) { return; }
    held = name;
    window.dash_clientside.set_props("hold", {data: name});
  }
  document.addEventListener("mouseover", function (e) {
    var el = e.target.closest && e.target.closest("[data-hold]");
    hold(el ? el.getAttribute("data-hold") : null);
  });
  document.addEventListener("mouseleave", function () { hold(null); });
})();

// Ages ("12s", "3m") of rows the server renders as <span class="age" data-at="epoch s">: written here every
// second, on each new snapshot and as a row is drawn (by Dash or rows.js), against the server's clock (each screen answer says its time; the freshness
// callback keeps the difference), so a row does not change just because it got older.
window.warroomAges = (function () {
  var skew = 0;  // browser clock minus server clock, in seconds
  function age(s) {  // as layouts/render.py age()
    s = Math.max(0, s);
    if (s < 59.5) { return Math.round(s) + "s"; }
    if (s < 3600) { return Math.round(s / 60) + "m"; }
    return (s / 3600).toFixed(1) + "h";
  }
  function write(el, now) {
    var text = (el.getAttribute("data-before") || "") + age(now - parseFloat(el.getAttribute("data-at"))) +
      (el.getAttribute("data-after") || "");
    if (el.textContent !== text) { el.textContent = text; }
  }
  function all(root) {
    var now = Date.now() / 1000 - skew;
    (root || document).querySelectorAll("span.age[data-at]").forEach(function (el) { write(el, now); });
  }
  setInterval(all, 1000);
  // A panel Dash redraws (sources, cards) gets fresh empty spans: write them before the next paint, so an
  // age never shows blank for up to a second.
  new MutationObserver(function (records) {
    var now = Date.now() / 1000 - skew;
    records.forEach(function (r) {
      r.addedNodes.forEach(function (n) {
        if (n.nodeType !== 1) { return; }
        if (n.matches("span.age[data-at]")) { write(n, now); }
        n.querySelectorAll("span.age[data-at]").forEach(function (el) { write(el, now); });
      });
    });
  }).observe(document.documentElement, {childList: true, subtree: true});
  return {
    serverTime: function (t) { if (t) { skew = Date.now() / 1000 - t; all(); } },  // each new snapshot
  };
})();

window.dash_clientside = Object.assign({}, window.dash_clientside, {
  warroom: {
    // Age of the newest data = its age when the snapshot was built + the time since that snapshot
    // arrived, counted in our own ticks (no need for the browser's clock to agree with the server's).
    // If no new snapshot arrives for `stale_after` seconds, whatever the reason (server, aggregator,
    // network), the screen says STALE in red.
    freshness: function (n, seen) {
      if (!seen) { return ["connecting…", "freshness fresh-bad", "", true]; }
      var tickS = seen.tick_s || 0.5;
      if (seen.v !== window.warroomSeenVersion) {
        window.warroomSeenVersion = seen.v; window.warroomSeenTick = n; window.warroomAges.serverTime(seen.now);
      }
      var quiet = (n - window.warroomSeenTick) * tickS;
      if (quiet > seen.stale_after) {
        return ["stale " + Math.round(quiet) + "s", "freshness fresh-bad",
                "STALE: nothing new from the War Room for " + Math.round(quiet) + "s — check the server and the aggregator",
                false];
      }
      if (seen.stale) { return ["stale", "freshness fresh-bad", seen.banner, false]; }
      return ["live · " + (seen.age + quiet).toFixed(1) + "s", "freshness fresh-ok", "", true];
    }
  }
});
