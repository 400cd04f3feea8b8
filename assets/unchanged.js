// Unchanged panels stay put: a live screen's answer (pushed or polled) names every panel each snapshot, and Dash
// rebuilds every component it is handed, changed or not (in Dash 4 each new component also wakes every other
// one on the page). Here each panel's children or figure in the answer is compared with what Dash holds for it
// now, and an identical one is dropped from the answer, as if the server had said no_update. Comparing with
// Dash's own state (not with earlier answers) stays right when Dash drops an outdated answer, when another
// callback wrote the panel, or when a new page is drawn; where that state cannot be read, nothing is dropped.
(function () {
  "use strict";
  // A live callback's first output: the screens, and the care lane that follows each snapshot.
  var LIVE = {"snap-version": 1, "wall-version": 1, "exec-version": 1, "care-metrics": 1};
  var PROPS = {children: 1, figure: 1};  // props only callbacks write (an is_open or a value the page changes too)
  var st = {dropped: 0, kept: 0};  // panels left as they were, panels handed to Dash
  window.__warroomUnchanged = st;

  function held(id, prop) {  // the JSON of what Dash holds for id.prop, or undefined
    var stores = window.dash_stores;
    var state = stores && stores[0] && stores[0].getState && stores[0].getState();
    var path = state && state.paths && state.paths.strs && state.paths.strs[id];
    if (!path) { return undefined; }
    var node = state.layout;
    for (var i = 0; i < path.length && node; i++) { node = node[path[i]]; }
    var props = node && node.props;
    return props && prop in props ? JSON.stringify(props[prop]) : undefined;
  }

  function trim(text) {  // the answer without what would not change; null when nothing would
    var answer;
    try { answer = JSON.parse(text); } catch (e) { return text; }
    var response = answer && answer.response;
    if (!response || typeof response !== "object") { return text; }
    var dropped = false;
    Object.keys(response).forEach(function (id) {
      var props = response[id];
      Object.keys(props).forEach(function (prop) {
        if (!PROPS[prop] && !(prop === "data" && /-rows$/.test(id))) { return; }  // a list's rows (rows.js)
        if (held(id, prop) === JSON.stringify(props[prop])) { delete props[prop]; dropped = true; st.dropped += 1; }
        else { st.kept += 1; }
      });
      if (!Object.keys(props).length) { delete response[id]; }
    });
    if (!dropped) { return text; }
    return Object.keys(response).length ? JSON.stringify(answer) : null;
  }

  var inner = window.fetch;
  window.fetch = function (input, init) {
    var url = typeof input === "string" ? input : (input && input.url) || "";
    if (url.indexOf("_dash-update-component") < 0 || !init || typeof init.body !== "string") {
      return inner.apply(this, arguments);
    }
    var first;
    try { first = String(JSON.parse(init.body).output || "").replace(/^\.+/, "").split(".")[0]; } catch (e) { first = ""; }
    if (!LIVE[first]) { return inner.apply(this, arguments); }
    return inner.apply(this, arguments).then(function (resp) {
      if (resp.status !== 200) { return resp; }
      return resp.text().then(function (t) {
        var left = trim(t);
        if (left === null) { return new Response(null, {status: 204}); }  // what Dash hears for PreventUpdate
        return new Response(left, {status: 200, headers: {"Content-Type": "application/json"}});
      });
    });
  };
})();
