/* Linli kiosk: the "read aloud / 朗读" button reads the screen's main words to a resident
 * who finds reading hard.
 *
 * The button ships hidden and is shown only when the browser has a Chinese voice: a button
 * that cannot speak Chinese would only disappoint. Chromium loads its voices after the page,
 * so the check runs again on "voiceschanged". The words are the screen's title, its notices,
 * its lead line and its step headings, in page order; the voice is one for the page's
 * language when there is one (English screens), else the Chinese one.
 */
(function () {
  "use strict";

  var button = document.querySelector("[data-read-aloud]");
  var speech = window.speechSynthesis;
  if (!button || !speech || typeof speech.getVoices !== "function") {
    return;
  }
  var WORDS = "main h1, main .notice p, main .lead, main h2, main .summary";

  function lang(voice) {
    return String(voice.lang || "").replace("_", "-").toLowerCase();
  }

  function voiceFor(prefix) {
    var voices = speech.getVoices() || [];
    for (var i = 0; i < voices.length; i += 1) {
      if (lang(voices[i]).indexOf(prefix) === 0) {
        return voices[i];
      }
    }
    return null;
  }

  function offer() {
    button.hidden = voiceFor("zh") === null;
  }

  function mainWords() {
    var parts = [];
    Array.prototype.forEach.call(document.querySelectorAll(WORDS), function (element) {
      var text = (element.innerText || "").replace(/\s+/g, " ").trim();
      if (text && element.getClientRects().length > 0) {
        parts.push(text);
      }
    });
    return parts.join("。\n");
  }

  button.addEventListener("click", function () {
    var pageLang = (document.documentElement.lang || "zh").toLowerCase().split("-")[0];
    var voice = voiceFor(pageLang) || voiceFor("zh");
    if (voice === null) {
      return;
    }
    speech.cancel();
    var utterance = new window.SpeechSynthesisUtterance(mainWords());
    utterance.voice = voice;
    utterance.lang = voice.lang;
    utterance.rate = 0.85;  // a little slower than usual, for older listeners
    speech.speak(utterance);
  });

  offer();
  if (typeof speech.addEventListener === "function") {
    speech.addEventListener("voiceschanged", offer);
  }
})();
