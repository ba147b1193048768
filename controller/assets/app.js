// Refreshes parts of a page in place: an element with data-refresh="URL"
// is replaced by that URL's HTML every few seconds. No framework, no build.
(function () {
  "use strict";
  var PERIOD_MS = 5000;

  function refresh(el) {
    var url = el.getAttribute("data-refresh");
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (res) {
        // The session ended: let the full page go to the login form.
        if (res.redirected || res.status === 401) { window.location.reload(); return null; }
        if (!res.ok) { throw new Error("HTTP " + res.status); }
        return res.text();
      })
      .then(function (html) {
        if (html === null) { return; }
        el.innerHTML = html;
        el.classList.remove("stale");
        el.removeAttribute("title");
      })
      .catch(function (err) {
        // Keep the last view, but say it is old.
        el.classList.add("stale");
        el.setAttribute("title", "Could not refresh: " + err.message);
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var targets = document.querySelectorAll("[data-refresh]");
    targets.forEach(function (el) {
      setInterval(function () {
        if (!document.hidden) { refresh(el); }
      }, PERIOD_MS);
    });
  });
})();
