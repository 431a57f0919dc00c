/* Linli kiosk: the polling behind a waiting screen (tools.js, health.js).
 *
 * linliPollStatus(statusUrl, intervalMs, onState) asks statusUrl for its JSON every
 * intervalMs and hands each answer to onState, which returns true to keep polling. A
 * signed-out resident (401) is sent home; an error or a failed request is simply asked
 * again, so a moment's network trouble never leaves the resident at a frozen screen.
 */
(function () {
  "use strict";

  window.linliPollStatus = function (statusUrl, intervalMs, onState) {
    var homeUrl = document.body.dataset.homeUrl;

    function later() {
      window.setTimeout(poll, intervalMs);
    }

    function poll() {
      fetch(statusUrl, {
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
        if (state === null || onState(state)) {
          later();
        }
      }).catch(later);
    }

    later();
  };
})();
