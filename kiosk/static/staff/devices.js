// The device board, kept current: every few seconds the page is fetched again and each
// device's section replaced, unless someone is typing a maintenance reason in it.
(function () {
  "use strict";
  var board = document.getElementById("device-board");
  if (!board || !window.fetch || !window.DOMParser) { return; }
  var seconds = Number(board.dataset.refreshSeconds) || 10;

  function busy(section) {
    if (section.contains(document.activeElement)) { return true; }
    var fields = section.querySelectorAll("textarea");
    for (var i = 0; i < fields.length; i++) { if (fields[i].value) { return true; } }
    return false;
  }

  function refresh() {
    // Marked as the page's own doing: it must not keep an unattended console signed in.
    fetch(window.location.pathname, {
      credentials: "same-origin",
      headers: { Accept: "text/html", "X-Linli-Background": "1" }
    })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("device-board");
        if (!fresh) { return; }  // signed out meanwhile: leave the page as it is
        Array.prototype.forEach.call(fresh.querySelectorAll("section.device"), function (section) {
          var current = document.getElementById(section.id);
          if (!current) { board.appendChild(document.importNode(section, true)); return; }
          if (!busy(current)) { current.replaceWith(document.importNode(section, true)); }
        });
      })
      .catch(function () { /* offline for a moment: try again next time */ });
  }

  window.setInterval(refresh, seconds * 1000);
}());
