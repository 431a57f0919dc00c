// The alerts inbox, live: new alerts from the server-sent event stream are put in their place
// (urgent first, newest first), announced to screen readers and, unless turned off, chimed.
// An alert a colleague takes on is redrawn in place; one a colleague resolves leaves the list.
(function () {
  "use strict";
  var live = document.getElementById("alert-live");
  var list = document.getElementById("alert-list");
  var empty = document.getElementById("alerts-empty");
  var soundButton = document.getElementById("alert-sound");
  if (!live || !list || !window.EventSource) { return; }

  var SOUND_KEY = "linli.staff.alertSound";
  var audio = null;

  function soundOn() {
    try { return window.localStorage.getItem(SOUND_KEY) !== "off"; } catch (e) { return true; }
  }

  function showSoundChoice() {
    var on = soundOn();
    soundButton.setAttribute("aria-pressed", on ? "true" : "false");
    soundButton.textContent = on ? live.dataset.textSoundOn : live.dataset.textSoundOff;
  }

  soundButton.hidden = false;
  showSoundChoice();
  soundButton.addEventListener("click", function () {
    try { window.localStorage.setItem(SOUND_KEY, soundOn() ? "off" : "on"); } catch (e) { /* private mode */ }
    showSoundChoice();
  });

  // Two short tones made on the spot: no sound file to ship, nothing fetched.
  function chime() {
    if (!soundOn()) { return; }
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return; }
    try {
      audio = audio || new Context();
      [[880, 0], [660, 0.18]].forEach(function (tone) {
        var osc = audio.createOscillator();
        var gain = audio.createGain();
        var start = audio.currentTime + tone[1];
        osc.frequency.value = tone[0];
        gain.gain.setValueAtTime(0.2, start);
        gain.gain.exponentialRampToValueAtTime(0.001, start + 0.16);
        osc.connect(gain);
        gain.connect(audio.destination);
        osc.start(start);
        osc.stop(start + 0.17);
      });
    } catch (e) { /* the browser refused audio before any click: the alert still shows */ }
  }

  function insert(alert) {
    if (document.getElementById("alert-" + alert.id)) { return false; }
    var holder = document.createElement("ol");
    holder.innerHTML = alert.html;
    var item = holder.firstElementChild;
    if (!item) { return false; }
    var before = null;
    var rows = list.children;
    for (var i = 0; i < rows.length; i++) {
      var rank = Number(rows[i].dataset.rank);
      var id = Number(rows[i].dataset.alertId);
      if (rank > alert.rank || (rank === alert.rank && id < alert.id)) { before = rows[i]; break; }
    }
    list.insertBefore(item, before);
    item.classList.add("alert-new");
    if (empty) { empty.hidden = true; }
    return true;
  }

  function change(alert) {
    var row = document.getElementById("alert-" + alert.id);
    if (!row) { return false; }
    // Someone typing a note into this alert keeps their words; the status still shows.
    var typing = row.contains(document.activeElement) && document.activeElement.tagName === "TEXTAREA";
    if (alert.status === "resolved") {
      row.parentNode.removeChild(row);
    } else if (typing) {
      var status = row.querySelector(".alert-status");
      var holder = document.createElement("ol");
      holder.innerHTML = alert.html;
      var fresh = holder.querySelector(".alert-status");
      if (status && fresh) { status.textContent = fresh.textContent; }
    } else {
      var replacement = document.createElement("ol");
      replacement.innerHTML = alert.html;
      if (replacement.firstElementChild) { row.parentNode.replaceChild(replacement.firstElementChild, row); }
    }
    if (empty) { empty.hidden = list.children.length > 0; }
    return true;
  }

  var source = new EventSource(live.dataset.stream);
  live.textContent = live.dataset.textLive;
  source.addEventListener("alert", function (event) {
    var alert = JSON.parse(event.data);
    if (insert(alert)) {
      live.textContent = live.dataset.textNew + " — " + alert.announce;
      chime();
    }
  });
  source.addEventListener("change", function (event) {
    var alert = JSON.parse(event.data);
    if (change(alert)) {
      live.textContent = live.dataset.textChanged + " — " + alert.announce;
    }
  });
  source.addEventListener("signed_out", function () {
    source.close();
    live.textContent = live.dataset.textSignedOut;
  });
  // The sign-in now works at another centre (switched in another tab, or this centre's grant
  // was taken away): this page shows the old centre's alerts, so draw it again.
  source.addEventListener("centre_changed", function () {
    source.close();
    window.location.reload();
  });

  // Each reconnect keeps the staff session alive; an unattended console must still sign out
  // after the idle limit, so the page stops listening a minute before it.
  var idleLimitMs = (Number(live.dataset.idleMinutes) - 1) * 60000;
  var lastInput = Date.now();
  ["pointerdown", "keydown", "wheel", "touchstart"].forEach(function (name) {
    document.addEventListener(name, function () { lastInput = Date.now(); }, { passive: true });
  });
  var idleCheck = window.setInterval(function () {
    if (idleLimitMs > 0 && Date.now() - lastInput > idleLimitMs) {
      source.close();
      window.clearInterval(idleCheck);
      live.textContent = live.dataset.textPaused;
    }
  }, 15000);
}());
