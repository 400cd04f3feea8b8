// Screen push (web/push.py): each new snapshot's answer arrives over a WebSocket, and Dash's own screen request
// is answered from it here, without going to the server. While the socket is down, blocked or silent, every
// request goes to the server as before: polling is the fallback, never switched off.
(function () {
  "use strict";
  // A screen callback's first output -> the store that makes Dash ask at once (layouts: ids.PUSH and the like).
  var SCREENS = {"snap-version": "push", "wall-version": "wall-push", "exec-version": "exec-push"};
  var SILENT_MS = 5000;  // no word from the push server this long (it beats every 2 s): poll the web
  var st = {ws: null, heard: 0, latest: 0, seq: 0, question: null, body: null, screen: null,
            group: null, acked: -1, pending: null, retry: 1000,
            applied: 0, polled: 0, why: {}, logging: false, log: []};  // answers handed to Dash, screen requests sent to the web, timings
  window.__warroomPush = st;  // for tests and the curious: what push is doing on this screen

  function port() {  // undefined until Dash has drawn the shell; null when push is off
    var el = document.getElementById("push-config");
    if (!el) { return undefined; }
    var p = el.getAttribute("data-port");
    return p && p !== "0" ? p : null;
  }

  function screenOf(body) {
    var first = String(body.output || "").replace(/^\.+/, "").split(".")[0];
    return Object.prototype.hasOwnProperty.call(SCREENS, first) ? first : null;
  }

  // What decides the answer: inputs without the clocks, state without the version this screen has.
  function questionOf(body, screen) {
    var inputs = (body.inputs || []).filter(function (i) {
      return i && i.property !== "n_intervals" && i.id !== SCREENS[screen];
    }).map(function (i) { return [i.id, i.property, i.value]; });
    var state = (body.state || []).map(function (s) { return [s.id, s.property, s.id === screen ? null : s.value]; });
    return JSON.stringify([body.output, inputs, state]);
  }

  function versionIn(body, screen) {
    var v = 0;
    (body.state || []).forEach(function (s) { if (s.id === screen && s.property === "data") { v = s.value || 0; } });
    return v;
  }

  // When each new snapshot's answer was handed to Dash: only while `logging` is on (the push bench turns it on),
  // so a polling screen does not read every answer twice.
  function remember(entry) {
    if (!st.logging) { return; }
    st.log.push(entry);
    if (st.log.length > 500) { st.log.shift(); }
  }

  function live() {
    return st.ws !== null && st.ws.readyState === 1 && Date.now() - st.heard < SILENT_MS;
  }

  function send() {
    if (st.ws && st.ws.readyState === 1 && st.body) {
      st.ws.send(JSON.stringify({n: st.seq, q: st.body}));
    }
  }

  function ask(body, screen) {
    var q = questionOf(body, screen);
    if (q === st.question) { return; }
    st.question = q; st.body = body; st.screen = screen; st.seq += 1; st.group = null; st.pending = null;
    send();
  }

  function onMessage(ev) {
    st.heard = Date.now();
    if (typeof ev.data === "string") {
      var msg = JSON.parse(ev.data);
      if (msg.v !== undefined) { st.latest = Math.max(st.latest, msg.v); }
      if (msg.g !== undefined && msg.n === st.seq) { st.group = msg.g; st.acked = msg.n; }
      return;
    }
    var got = Date.now(), bytes = new Uint8Array(ev.data), nl = bytes.indexOf(10);
    var head = new TextDecoder().decode(bytes.subarray(0, nl)).split(" ");
    var version = parseInt(head[0], 10), group = head[1];
    if (group !== st.group || !st.screen) { return; }
    var text = new Response(new Blob([bytes.subarray(nl + 1)]).stream().pipeThrough(new DecompressionStream("gzip"))).text();
    text.then(function (t) {
      if (group !== st.group) { return; }
      st.latest = Math.max(st.latest, version);
      st.pending = {version: version, group: group, text: t, got: got, set: Date.now()};
      var store = {}; store.data = version;
      window.dash_clientside.set_props(SCREENS[st.screen], store);  // Dash asks now: fetch below answers it
    });
  }

  function connect() {
    var p = port();
    if (p === undefined) { setTimeout(connect, 200); return; }
    if (/[?&]push=0(&|$)/.test(location.search)) { return; }  // this screen polls (as behind a proxy that blocks push)
    if (!p || typeof WebSocket === "undefined" || typeof DecompressionStream === "undefined") { return; }
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.hostname + ":" + p + "/push");
    ws.binaryType = "arraybuffer";
    ws.onopen = function () { st.ws = ws; st.retry = 1000; st.group = null; send(); };
    ws.onmessage = onMessage;
    ws.onclose = function () {
      if (st.ws === ws) { st.ws = null; st.group = null; st.pending = null; }
      setTimeout(connect, st.retry + Math.random() * 500);
      st.retry = Math.min(st.retry * 2, 10000);
    };
  }

  var original = window.fetch;
  window.fetch = function (input, init) {
    var url = typeof input === "string" ? input : (input && input.url) || "";
    if (url.indexOf("_dash-update-component") < 0 || !init || typeof init.body !== "string") {
      return original.apply(this, arguments);
    }
    var body;
    try { body = JSON.parse(init.body); } catch (e) { return original.apply(this, arguments); }
    var screen = screenOf(body);
    if (!screen) { return original.apply(this, arguments); }
    ask(body, screen);
    var have = versionIn(body, screen), p = st.pending;
    if (live() && st.group !== null && st.acked === st.seq) {
      if (p && p.group === st.group && p.version > have) {
        st.pending = null; st.applied += 1;
        remember({v: p.version, got: p.got, set: p.set, handed: Date.now()});
        return Promise.resolve(new Response(p.text, {status: 200, headers: {"Content-Type": "application/json"}}));
      }
      if (have && have >= st.latest) {  // what the server would say: nothing new since the version it has
        return Promise.resolve(new Response(null, {status: 204}));
      }
    }
    st.polled += 1;
    var why = !live() ? "silent" : st.group === null || st.acked !== st.seq ? "new question" : "behind";
    st.why[why] = (st.why[why] || 0) + 1;
    return original.apply(this, arguments).then(function (resp) {  // unsure: the server answers, as without push
      if (st.logging && resp.status === 200) {
        resp.clone().json().then(function (j) {
          var v = j && j.response && j.response[screen] && j.response[screen].data;
          if (v > have) { remember({v: v, handed: Date.now(), polled: true}); }
        }, function () {});
      }
      return resp;
    });
  };

  connect();
})();
