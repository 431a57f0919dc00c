/* Linli kiosk: the on-screen number keys for phone and PIN.
 *
 * The inputs use inputmode="none" so no system keyboard covers the screen; a physical
 * keyboard still types into them directly. The keys type into the box last tapped.
 */
(function () {
  "use strict";

  var fields = Array.prototype.slice.call(document.querySelectorAll("[data-keypad-field]"));
  if (fields.length === 0) {
    return;
  }
  var active = fields.filter(function (f) { return f.hasAttribute("autofocus"); })[0] || fields[0];

  function setActive(field) {
    active = field;
    fields.forEach(function (f) {
      f.closest(".field").classList.toggle("is-active", f === field);
    });
  }

  function limit(field) {
    var max = Number(field.getAttribute("maxlength"));
    return max > 0 ? max : Infinity;
  }

  function typeDigit(digit) {
    if (active.value.length >= limit(active)) {
      return;
    }
    active.value += digit;
    // A full phone number moves on to the PIN, as a person at the counter would.
    if (active.value.length >= limit(active) && active.dataset.next) {
      var next = document.getElementById(active.dataset.next);
      if (next) {
        setActive(next);
      }
    }
  }

  fields.forEach(function (field) {
    field.addEventListener("focus", function () { setActive(field); });
    field.addEventListener("input", function () {
      // Physical keyboards may type letters or spaces; keep digits only.
      var digits = field.value.replace(/\D+/g, "");
      if (digits !== field.value) {
        field.value = digits;
      }
    });
  });

  document.querySelectorAll(".keypad [data-key]").forEach(function (key) {
    key.addEventListener("click", function () {
      var what = key.dataset.key;
      if (what === "delete") {
        // Deleting past the start of the PIN goes back to fix the phone number.
        if (active.value === "" && fields.indexOf(active) > 0) {
          setActive(fields[fields.indexOf(active) - 1]);
        }
        active.value = active.value.slice(0, -1);
      } else if (what === "clear") {
        active.value = "";
      } else {
        typeDigit(what);
      }
    });
  });

  setActive(active);
  // Said once the keys type: a tap before this (the script is deferred) would be lost, and
  // the browser tests wait for it rather than for the page's address.
  document.querySelectorAll(".keypad").forEach(function (pad) { pad.dataset.keypadReady = "true"; });
})();
