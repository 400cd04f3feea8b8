// Clientside pieces: they must work when the server does not answer, and cost the server nothing.
(function () {
  // Which live panel the pointer is over: that panel stops re-rendering until the pointer leaves.
  window.warroomHold = null;
  document.addEventListener("mouseover", function (e) {
    var el = e.target.closest && e.target.closest("[data-hold]");
    window.warroomHold = el ? el.getAttribute("data-hold") : null;
  });
  document.addEventListener("mouseleave", function () { window.warroomHold = null; });
})();

window.dash_clientside = Object.assign({}, window.dash_clientside, {
  warroom: {
    // Hidden while the server echoed one of the last few ticks; shown after five missed ticks.
    connection: function (n, lastSeen) {
      if (!n) { return true; }
      var seen = (lastSeen && lastSeen.n) || 0;
      return (n - seen) < 5;
    },
    // Pass the snapshot version on to a panel unless the pointer is over that panel.
    gate: function (name) {
      return function (version) {
        return window.warroomHold === name ? window.dash_clientside.no_update : version;
      };
    }
  }
});
["feed", "alerts", "stories"].forEach(function (name) {
  window.dash_clientside.warroom["gate_" + name] = window.dash_clientside.warroom.gate(name);
});
