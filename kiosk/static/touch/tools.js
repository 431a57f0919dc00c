/* Linli kiosk: the "opening compartment N" screen of a tool pickup or return, and the
 * loan slip's print button.
 *
 * Polls the attempt's status; moves through opening → unlocked → door open; goes to the
 * slip (pickup) or the condition question (return) when the locker confirms; shows the
 * reason when the attempt ends without it. The resident is at the locker, not at this
 * screen, so each answer that the attempt is still live counts as activity for idle.js (a
 * synthetic "wheel" event): the idle sign-out must not end the session mid-pickup.
 */
(function () {
  "use strict";

  // The slip's print button (no inline handlers: the kiosk's CSP forbids them).
  Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
    button.addEventListener("click", function () {
      window.print();
    });
  });

  var root = document.querySelector("[data-tools-wait]");
  if (!root) {
    return;
  }
  var POLL_MS = 1000;
  var openBox = root.querySelector("[data-tools-open]");
  var endedBox = root.querySelector("[data-tools-ended]");
  var phase = root.querySelector("[data-tools-phase]");
  var message = root.querySelector("[data-tools-message]");
  var failure = root.querySelector("[data-tools-failure]");
  var homeUrl = document.body.dataset.homeUrl;

  function ended(text) {
    failure.textContent = text || "";
    openBox.hidden = true;
    endedBox.hidden = false;
  }

  function poll() {
    fetch(root.dataset.statusUrl, {
      credentials: "same-origin",
      headers: { "Accept": "application/json" },
      cache: "no-store"
    }).then(function (response) {
      if (response.status === 401) {
        window.location.assign(homeUrl);
        return null;
      }
      return response.ok ? response.json() : null;
    }).then(function (state) {
      if (state === null) {
        window.setTimeout(poll, POLL_MS);
        return;
      }
      if (state.done_url) {
        window.location.assign(state.done_url);
        return;
      }
      if (!state.open) {
        ended(state.message);
        return;
      }
      phase.dataset.toolsPhase = state.phase;
      message.textContent = state.message;
      document.dispatchEvent(new Event("wheel"));
      window.setTimeout(poll, POLL_MS);
    }).catch(function () {
      window.setTimeout(poll, POLL_MS);
    });
  }

  if (!openBox.hidden) {
    window.setTimeout(poll, POLL_MS);
  }
  root.dataset.toolsReady = "true";
})();
