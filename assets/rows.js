// Live lists (the feed, alerts, storylines, trending, the care lane) drawn here instead of by Dash. The server
// still builds every row as Dash components (layouts/), but sends them as data (a dcc.Store per list) and this
// draws them into the list's empty container, keeping each row whose content did not change. Dash 4 makes each
// component it mounts wake every other component on the page, so a hundred new rows per snapshot kept the
// strategist's browser busy for seconds; here a snapshot costs one store update and the rows that changed.
//
// Post text is untrusted: text is only ever a text node, attributes are a fixed list, links only http(s).
// A row's button with a pattern id ({type, ...}) is passed to the gate store of its type (ids.gate), which is
// what the server callback listens to: a click here is what a Dash click on that button was.
(function () {
  "use strict";
  var TAGS = {Div: "div", Span: "span", A: "a", Button: "button", B: "b", I: "i", Small: "small", Strong: "strong",
              Em: "em", P: "p", Ul: "ul", Ol: "ol", Li: "li", Br: "br", Hr: "hr", Section: "section", Label: "label"};
  var ATTRS = {title: 1, role: 1, target: 1, rel: 1, type: 1, tabIndex: "tabindex"};
  var SAFE_HREF = /^(https?:\/\/|\/(?!\/))/i;

  function classes(list) { return list.filter(Boolean).join(" "); }

  function element(c) {
    var props = c.props || {}, el, cls = props.className || props.class_name || "";
    if (c.namespace === "dash_html_components" && TAGS[c.type]) {
      el = document.createElement(TAGS[c.type]);
    } else if (c.namespace === "dash_bootstrap_components" && c.type === "Badge") {
      el = document.createElement("span");
      cls = classes([cls, "badge", props.pill && "rounded-pill", props.text_color && "text-" + props.text_color,
                     "bg-" + (props.color || "secondary")]);
    } else if (c.namespace === "dash_bootstrap_components" && c.type === "Button") {
      el = document.createElement("button");
      el.type = "button";
      var color = props.color || "primary";
      cls = classes([cls, "btn", props.active && "active", (props.outline ? "btn-outline-" : "btn-") + color,
                     props.size && "btn-" + props.size]);
    } else {
      if (window.console) { console.warn("rows.js cannot draw", c.namespace, c.type); }
      el = document.createElement("span");
    }
    if (cls) { el.className = cls; }
    Object.keys(props).forEach(function (k) {
      var v = props[k];
      if (v === null || v === undefined || v === false) { return; }
      if (ATTRS[k]) { el.setAttribute(ATTRS[k] === 1 ? k : ATTRS[k], String(v)); }
      else if (k === "hidden" || k === "disabled") { el[k] = true; }
      else if (k === "href") { if (SAFE_HREF.test(String(v))) { el.setAttribute("href", String(v)); } }
      else if (k === "id") {
        if (typeof v === "object") { el.setAttribute("data-dash-id", JSON.stringify(v)); } else { el.id = String(v); }
      } else if (k === "style" && typeof v === "object") {
        Object.keys(v).forEach(function (s) { el.style[s] = v[s]; });
      } else if (/^(data|aria)-[a-z0-9-]+$/.test(k)) { el.setAttribute(k, String(v)); }
    });
    append(el, props.children);
    return el;
  }

  function append(parent, children) {
    (Array.isArray(children) ? children : [children]).forEach(function (ch) {
      if (ch === null || ch === undefined || ch === false) { return; }
      if (typeof ch === "object" && !Array.isArray(ch)) { parent.appendChild(element(ch)); }
      else if (Array.isArray(ch)) { append(parent, ch); }
      else { parent.appendChild(document.createTextNode(String(ch))); }
    });
  }

  // Draw `rows` (component JSON) into the container, reusing the element of any row that is exactly as before.
  function draw(container, rows) {
    var old = {};
    Array.prototype.forEach.call(container.children, function (el) {
      (old[el.__warroomRow] = old[el.__warroomRow] || []).push(el);
    });
    var next = (rows || []).map(function (row) {
      var json = JSON.stringify(row), reuse = old[json] && old[json].shift();
      if (reuse) { return reuse; }
      var wrap = document.createElement("div");
      append(wrap, row);
      var el = wrap.firstChild || document.createElement("div");
      el.__warroomRow = json;
      return el;
    });
    next.forEach(function (el, i) {  // in order, moving only what is out of place
      if (container.children[i] !== el) { container.insertBefore(el, container.children[i] || null); }
    });
    while (container.children.length > next.length) { container.removeChild(container.lastChild); }
  }

  document.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest("[data-dash-id]");
    if (!btn || !btn.closest("[data-rows]") || !window.dash_clientside || !window.dash_clientside.set_props) { return; }
    var id;
    try { id = JSON.parse(btn.getAttribute("data-dash-id")); } catch (err) { return; }
    if (!id || typeof id.type !== "string") { return; }
    window.dash_clientside.set_props("gate-" + id.type, {data: {id: id, n: 1, at: Date.now()}});
  });

  window.dash_clientside = Object.assign({}, window.dash_clientside);
  window.dash_clientside.rows = {
    // The clientside callback of each list's store: draws it, and changes nothing Dash holds.
    draw: function (rows) {
      var cc = window.dash_clientside.callback_context || {};
      var store = ((cc.triggered || [])[0] || {}).prop_id || "";
      var container = document.querySelector("[data-rows='" + store.split(".")[0] + "']");
      if (container) { draw(container, typeof rows === "string" ? JSON.parse(rows) : rows); }  // rows_json
      return window.dash_clientside.no_update;
    }
  };
  window.__warroomRows = {draw: draw};  // for tests
})();
