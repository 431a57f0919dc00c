/* Linli kiosk: a screen paired with a card and code reader asks, about once a second, for the
 * reader's next read (kiosk/touch/reader/next_read.py) and goes where the server says: the
 * card's sign-in, a check-in's result, a return's waiting screen.
 *
 * The poll goes to a path outside /kiosk, so it carries no resident's cookie and keeps no one
 * signed in. Only a paired screen loads this file (base.html). Settings come from data-
 * attributes on <body>: the CSP allows no inline script.
 */
(function () {
  "use strict";

  var url = document.body.dataset.readerUrl;
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = meta ? meta.getAttribute("content") : "";
  var EVERY_MS = 1000;
  var gone = false;

  if (!url) {
    return;
  }

  function later() {
    if (!gone) {
      window.setTimeout(poll, EVERY_MS);
    }
  }

  function poll() {
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken, "Accept": "application/json" },
      cache: "no-store"
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      if (answer && answer.go) {
        gone = true;
        window.location.assign(answer.go);
        return;
      }
      later();
    }).catch(later);
  }

  later();
}());
