// The wall and the executive view in the browser: freshness drawn from the last answer (so it turns red exactly
// when answers stop), chart text that scales with the page, and recovery with no one to press reload:
// - a new build on the server (a deploy) reloads the page;
// - when the server's answers fail for a while (restart, network drop), the page probes /api/health and
//   reloads as soon as the server answers again, so it never sits on a dead renderer.
(function () {
  var lastOk = Date.now(), probing = false, lastProbe = 0;
  var FAILING_MS = 15000, PROBE_EVERY_MS = 5000;
  if (window.fetch && !window.warroomWallFetch) {
    var original = window.fetch;
    window.warroomWallFetch = true;
    window.fetch = function (input) {
      var url = typeof input === "string" ? input : (input && input.url) || "";
      var p = original.apply(this, arguments);
      if (url.indexOf("_dash-update-component") >= 0) {
        p.then(function (r) { if (r.status < 400) { lastOk = Date.now(); } }, function () {});
      }
      return p;
    };
  }
  function probe() {
    if (probing || Date.now() - lastProbe < PROBE_EVERY_MS) { return; }
    probing = true; lastProbe = Date.now();
    fetch("/api/health", {cache: "no-store"}).then(function (r) {
      probing = false;
      if (r.ok) { window.location.reload(); }
    }, function () { probing = false; });
  }
  function screen() { return document.querySelector(".wall, .exec-view"); }
  window.warroomScreens = {
    watch: function (seen) {
      var el = screen();
      if (el) { document.documentElement.lang = document.documentElement.lang || "en"; }
      if (seen && seen.build) {
        if (!window.warroomBuild) { window.warroomBuild = seen.build; }
        else if (seen.build !== window.warroomBuild) { window.location.reload(); }
      }
      if (Date.now() - lastOk > FAILING_MS) { probe(); }
    },
    quiet: function (n, seen) {
      var tickS = seen.tick_s || 0.5;
      if (seen.v !== window.warroomScreenV) { window.warroomScreenV = seen.v; window.warroomScreenTick = n; }
      return (n - window.warroomScreenTick) * tickS;
    }
  };
})();

window.dash_clientside = Object.assign({}, window.dash_clientside, {
  wall: {
    tick: function (n, seen) {
      var s = window.warroomScreens;
      s.watch(seen);
      var rem = parseFloat(getComputedStyle(document.documentElement).fontSize);
      if (rem && rem !== window.warroomRem && window.dash_clientside.set_props) {
        window.warroomRem = rem;
        window.dash_clientside.set_props("wall-rem", {data: rem});
      }
      if (!seen) { return ["● connecting", "wall-live bad", "", true]; }
      var quiet = s.quiet(n, seen);
      if (quiet > seen.stale_after) {
        return ["▲ STALE", "wall-live bad", "STALE · no new data for " + Math.round(quiet) + " s · reconnecting by itself", false];
      }
      if (seen.stale) { return ["▲ STALE", "wall-live bad", seen.banner, false]; }
      return ["● LIVE " + (seen.age + quiet).toFixed(0) + " s", "wall-live ok", "", true];
    }
  },
  exec: {
    tick: function (n, seen) {
      var s = window.warroomScreens;
      s.watch(seen);
      if (!seen) { return ["connecting…", "exec-fresh bad"]; }
      var quiet = s.quiet(n, seen);
      if (quiet > seen.stale_after) { return ["▲ stale: nothing new for " + Math.round(quiet) + " s", "exec-fresh bad"]; }
      return ["● live · data " + (seen.age + quiet).toFixed(0) + " s old", "exec-fresh ok"];
    }
  }
});
