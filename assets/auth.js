// Signed out on the server (session expired, kiosk link revoked, secret rotated, user disabled): the next
// poll is answered 401 {"signed_out": true}. A wall screen then shows the "signed out" notice; a person's
// browser goes to the sign-in page and comes back here afterwards. Dash's renderer sends the CSRF header
// itself (X-CSRFToken from the _csrf_token cookie).
(function () {
  if (!window.fetch || window.warroomAuthFetch) { return; }
  var original = window.fetch;
  var leaving = false;
  window.warroomAuthFetch = true;
  window.fetch = function (input, init) {
    return original.apply(this, arguments).then(function (response) {
      var url = typeof input === "string" ? input : (input && input.url) || "";
      if (response.status === 401 && !leaving && url.indexOf("/_dash-") !== -1) {
        leaving = true;
        var wall = window.location.pathname.replace(/\/+$/, "") === "/wall";
        window.location.assign(wall ? "/signed-out" : "/login?next=" + encodeURIComponent(window.location.pathname));
      }
      return response;
    });
  };
})();
