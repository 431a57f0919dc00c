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

  function ended(text) {
    if (message) {
      message.textContent = text || "";
    }
    openBox.hidden = true;
    endedBox.hidden = false;
  }

  // One status answer; true while the pairing is still open (status_poll.js polls on).
  function show(state) {
    if (state.result_url) {
      window.location.assign(state.result_url);
      return false;
    }
    if (!state.open) {
      ended(state.message);
      return false;
    }
    phase.textContent = state.status === "measuring" ? root.dataset.textMeasuring : root.dataset.textWaiting;
    if (window.linliIdle) {
      window.linliIdle.stillHere();
    }
    return true;
  }

  if (!openBox.hidden) {
    window.linliPollStatus(root.dataset.statusUrl, POLL_MS, show);
  }
  root.dataset.bpReady = "true";
})();
