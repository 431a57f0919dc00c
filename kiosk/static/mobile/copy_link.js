// The "copy the link" button: shown only where the browser can copy (a secure page).
(function () {
  "use strict";
  var button = document.getElementById("copy-link");
  if (!button || !navigator.clipboard || !window.isSecureContext) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(button.dataset.copy || "");
  });
})();
