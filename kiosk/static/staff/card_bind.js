// "Bind card": while the console waits for the resident's tap on the terminal, ask the
// server every two seconds what became of the wait and say it; stop once it has ended.
(function () {
  "use strict";
  var box = document.getElementById("card-bind-status");
  if (!box || !window.fetch || box.dataset.done === "true") { return; }
  var url = box.dataset.url;

  function poll() {
    // Marked as the page's own doing: it must not keep an unattended console signed in.
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json", "X-Linli-Background": "1" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (!state) { return; }
        box.querySelector("[data-words]").textContent = state.message;
        if (state.done) {
          // The card (or its absence) shows on the page: reload it once.
          window.location.replace(window.location.pathname + "?bind=" + box.dataset.bind + "#card");
          return;
        }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
}());
