// Clientside checks that must work when the server does not answer.
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  warroom: {
    // Hidden while the server echoed one of the last few ticks; shown after five missed ticks.
    connection: function (n, lastSeen) {
      if (!n) { return true; }
      var seen = (lastSeen && lastSeen.n) || 0;
      return (n - seen) < 5;
    }
  }
});
