/* Linli kiosk: sign a resident out when nobody is using the screen.
 *
 * The overlay appears (idle limit - warning) seconds after the last touch and counts
 * down the warning (at least 20 s, WCAG 2.2.1). "Continue" pings the server so its own
 * idle timer restarts too; at zero the page posts sign-out and goes home. Signed-out
 * pages other than home just go home, so half-typed phone numbers do not linger; and a
 * screen left in another language (home included) goes back to Chinese for the next
 * person, through the same sign-out, which the server answers by forgetting the language.
 * Settings come from data- attributes on <body>: the CSP allows no inline script.
 */
(function () {
  "use strict";

  var body = document.body;
  var data = body.dataset;
  var idleMs = Number(data.idleSeconds) * 1000;
  var warningMs = Math.min(Number(data.warningSeconds) * 1000, idleMs);
  var signedIn = data.signedIn === "true";
  var isHome = data.isHome === "true";
  var largeText = data.largeText === "true";
  var languageChosen = data.languageChosen === "true";
  var homeUrl = data.homeUrl;
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = meta ? meta.getAttribute("content") : "";
  var overlay = document.getElementById("idle-overlay");
  var countdown = overlay ? overlay.querySelector("[data-countdown]") : null;
  // Touches between page loads reach the server at most this often.
  var KEEPALIVE_EVERY_MS = 15000;

  if (!(idleMs > 0)) {
    return;
  }

  var lastActivity = Date.now();
  var lastKeepalive = Date.now();
  var finished = false;

  function post(url, payload) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": csrfToken
      },
      body: JSON.stringify(payload || {})
    });
  }

  function goHome() {
    finished = true;
    window.location.assign(homeUrl);
  }

  function keepalive() {
    lastKeepalive = Date.now();
    post(data.keepaliveUrl).then(function (response) {
      // The server already ended the session (for instance another tab signed out).
      if (response.status === 401) {
        goHome();
      }
    }).catch(function () { /* offline for a moment: the next touch tries again */ });
  }

  function signOut(reason) {
    finished = true;
    post(data.signOutUrl, { reason: reason }).catch(function () {}).then(goHome, goHome);
  }

  // While the overlay is up, the page behind it is inert: no focus, no taps, no screen reader.
  function setBackgroundInert(inert) {
    Array.prototype.forEach.call(body.children, function (element) {
      if (element !== overlay && element.tagName !== "SCRIPT") {
        element.inert = inert;
      }
    });
  }

  function overlayShown() {
    return overlay !== null && !overlay.hidden;
  }

  function showOverlay(secondsLeft) {
    if (countdown) {
      countdown.textContent = String(secondsLeft);
    }
    if (!overlayShown()) {
      overlay.hidden = false;
      body.classList.add("has-overlay");
      setBackgroundInert(true);
      var button = overlay.querySelector("[data-idle-continue]");
      if (button) {
        button.focus();
      }
    }
  }

  function hideOverlay() {
    if (overlayShown()) {
      overlay.hidden = true;
      body.classList.remove("has-overlay");
      setBackgroundInert(false);
    }
  }

  function onActivity() {
    // While the overlay is up only its buttons count: a stray touch must not hide it.
    if (finished || overlayShown()) {
      return;
    }
    lastActivity = Date.now();
    if (signedIn && Date.now() - lastKeepalive > KEEPALIVE_EVERY_MS) {
      keepalive();
    }
  }

  function tick() {
    if (finished) {
      return;
    }
    var idle = Date.now() - lastActivity;
    if (!signedIn) {
      if (idle >= idleMs && (largeText || languageChosen)) {
        // Large text or another language was someone's own choice: the server forgets it,
        // and the next person starts at the normal size, in Chinese (even on the home screen).
        signOut("idle");
      } else if (idle >= idleMs && !isHome) {
        goHome();
      }
      return;
    }
    if (idle >= idleMs) {
      signOut("idle");
    } else if (idle >= idleMs - warningMs) {
      showOverlay(Math.ceil((idleMs - idle) / 1000));
    } else {
      hideOverlay();
    }
  }

  ["pointerdown", "keydown", "touchstart", "wheel"].forEach(function (name) {
    document.addEventListener(name, onActivity, { capture: true, passive: true });
  });

  // Tab cycles through the overlay's own buttons instead of leaving the dialog.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Tab" || !overlayShown()) {
      return;
    }
    var buttons = overlay.querySelectorAll("button");
    var index = Array.prototype.indexOf.call(buttons, document.activeElement);
    var step = event.shiftKey ? -1 : 1;
    buttons[(index + step + buttons.length) % buttons.length].focus();
    event.preventDefault();
  });

  if (overlay) {
    overlay.querySelector("[data-idle-continue]").addEventListener("click", function () {
      lastActivity = Date.now();
      hideOverlay();
      keepalive();
    });
    overlay.querySelector("[data-idle-sign-out]").addEventListener("click", function () {
      signOut("signed_out");
    });
  }

  // For pages whose resident is busy elsewhere (at the blood-pressure terminal): they call
  // this while that lasts, instead of faking a touch.
  window.linliIdle = {
    stillHere: function () {
      if (finished) {
        return;
      }
      lastActivity = Date.now();
      hideOverlay();
      if (signedIn && Date.now() - lastKeepalive > KEEPALIVE_EVERY_MS) {
        keepalive();
      }
    }
  };

  window.setInterval(tick, 500);
  // Lets tests (and anyone debugging) know the timer is armed before time is moved on.
  body.dataset.idleReady = "true";
})();
