/* Linli kiosk: tell the server, about once a minute, that this screen can reach it.
 *
 * Each post that gets through is the kiosk's heartbeat (kiosk/kiosk_uptime.py): no resident
 * gets a no-show strike for a time when these posts could not get through. It goes to a path
 * outside /kiosk, so it carries no resident's cookie and never keeps anyone signed in.
 * Settings come from data- attributes on <body>: the CSP allows no inline script.
 */
(function () {
  "use strict";

  var url = document.body.dataset.aliveUrl;
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = meta ? meta.getAttribute("content") : "";
  var EVERY_MS = 60000;

  if (!url) {
    return;
  }

  function beat() {
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken }
    }).catch(function () { /* the server is away: the missing beat is the record of it */ });
  }

  beat();
  window.setInterval(beat, EVERY_MS);
}());
