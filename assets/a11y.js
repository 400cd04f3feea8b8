// Accessible names and the page language for controls whose components render without them (Dash 4's slider
// thumb and value box, dash-bootstrap-components' selects): checked by axe-core in tests/web/test_screens.py.
(function () {
  var NAMES = {"feed-source": "Source", "card-type": "Card type", "card-priority": "Priority", "card-status": "Status",
               "care-kind": "Correct the case's kind", "care-template": "Care template",
               "publish-reason": "Why publishing is paused",
               "respond-network": "Network", "respond-text": "Response text", "respond-note": "Rejection note",
               "respond-template": "Template"};
  function name(el, label) { if (!el.getAttribute("aria-label")) { el.setAttribute("aria-label", label); } }
  function fix() {
    if (!document.documentElement.lang) { document.documentElement.lang = "en"; }
    Object.keys(NAMES).forEach(function (id) {
      document.querySelectorAll('[id="' + id + '"]').forEach(function (el) { name(el, NAMES[id]); });
    });
    // Panels that scroll can be scrolled from the keyboard (WCAG 2.1.1): focusable, named after their title.
    document.querySelectorAll(".panel-body:not([tabindex])").forEach(function (el) {
      el.setAttribute("tabindex", "0");
      var title = el.parentElement && el.parentElement.querySelector(".panel-title");
      el.setAttribute("role", "region");
      if (title) { el.setAttribute("aria-label", title.textContent); }
    });
    // dash-bootstrap-components' Toast draws its icon as <svg role="img"> with no name (the alert toast).
    document.querySelectorAll(".toast-header svg[role=img]").forEach(function (el) { name(el, "Alert"); });
    document.querySelectorAll(".dash-slider-thumb").forEach(function (el) { name(el, "Minimum score"); });
    document.querySelectorAll(".dash-input-container, .dash-input-container input").forEach(function (el) {
      if (el.tagName === "INPUT") { name(el, "Minimum score value"); }
    });
  }
  new MutationObserver(fix).observe(document.documentElement, {childList: true, subtree: true});
  fix();
})();
