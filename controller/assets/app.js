// Refreshes parts of a page in place: an element with data-refresh="URL"
// is replaced by that URL's HTML every few seconds. Shows times in the
// reader's zone, and lets forms take times in it. No framework, no build.
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

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // Minutes east of UTC, as the server expects; getTimezoneOffset is west.
  function offsetAt(date) { return -date.getTimezoneOffset(); }

  function offsetText(minutes) {
    var sign = minutes < 0 ? "-" : "+";
    var m = Math.abs(minutes);
    return "UTC" + sign + pad(Math.floor(m / 60)) + ":" + pad(m % 60);
  }

  // The server renders UTC; without this script, that is what stays.
  function localTimes() {
    document.querySelectorAll("time[data-local]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d.getTime())) { return; }
      el.title = el.textContent;
      el.textContent = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) +
        " " + pad(d.getHours()) + ":" + pad(d.getMinutes()) + " " + offsetText(offsetAt(d));
    });
  }

  // A datetime-local input reads as the browser's wall clock; the offset
  // for that very time (summer or winter) goes along in <name>_offset.
  function localForms() {
    document.querySelectorAll("form[data-local-times]").forEach(function (form) {
      form.querySelectorAll("[data-zone]").forEach(function (el) {
        el.textContent = "your time, " + offsetText(offsetAt(new Date()));
      });
      form.addEventListener("submit", function () {
        form.querySelectorAll("input[type=datetime-local]").forEach(function (input) {
          var hidden = form.querySelector("input[name='" + input.name + "_offset']");
          if (!hidden) { return; }
          var at = new Date(input.value);
          hidden.value = input.value && !isNaN(at.getTime()) ? String(offsetAt(at)) : "";
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes();
    localForms();
    var targets = document.querySelectorAll("[data-refresh]");
    targets.forEach(function (el) {
      setInterval(function () {
        if (!document.hidden) { refresh(el); }
      }, PERIOD_MS);
    });
  });
})();
