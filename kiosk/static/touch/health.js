/* Linli kiosk: the "measure now" waiting screen.
 *
 * Polls the pairing's status; shows "measuring" when the terminal starts; opens the result
 * page when the reading is stored; shows the reason when the measurement ends without one.
 * While the pairing is open the resident is at the terminal, not at this screen, so each
 * answer that it is still open tells idle.js the resident is still here: the idle sign-out
 * must not end the session mid-measurement.
 * Once the pairing ends, polling stops and the normal idle timeout applies again.
 */
(function () {
  "use strict";

  var root = document.querySelector("[data-bp-wait]");
  if (!root) {
    return;
  }
  var POLL_MS = 1500;
  var openBox = root.querySelector("[data-bp-open]");
  var endedBox = root.querySelector("[data-bp-ended]");
  var phase = root.querySelector("[data-bp-phase]");
  var message = root.querySelector("[data-bp-message]");
  var homeUrl = document.body.dataset.homeUrl;

  function ended(text) {
    if (message) {
      message.textContent = text || "";
    }
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
      if (state.result_url) {
        window.location.assign(state.result_url);
        return;
      }
      if (!state.open) {
        ended(state.message);
        return;
      }
      phase.textContent = state.status === "measuring" ? root.dataset.textMeasuring : root.dataset.textWaiting;
      if (window.linliIdle) {
        window.linliIdle.stillHere();
      }
      window.setTimeout(poll, POLL_MS);
    }).catch(function () {
      window.setTimeout(poll, POLL_MS);
    });
  }

  if (!openBox.hidden) {
    window.setTimeout(poll, POLL_MS);
  }
  root.dataset.bpReady = "true";
})();
