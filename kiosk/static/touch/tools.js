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

  function ended(text) {
    failure.textContent = text || "";
    openBox.hidden = true;
    endedBox.hidden = false;
  }

  // One status answer; true while the attempt is still live (status_poll.js polls on).
  function show(state) {
    if (state.done_url) {
      window.location.assign(state.done_url);
      return false;
    }
    if (!state.open) {
      ended(state.message);
      return false;
    }
    phase.dataset.toolsPhase = state.phase;
    message.textContent = state.message;
    document.dispatchEvent(new Event("wheel"));
    return true;
  }

  if (!openBox.hidden) {
    window.linliPollStatus(root.dataset.statusUrl, POLL_MS, show);
  }
  root.dataset.toolsReady = "true";
})();
