/* Hosted login page script (Universal Login style).
 *
 * The form cannot be submitted without it: on submit it answers the page's challenge into the
 * hidden `captcha` field, which the server checks. A bare form POST therefore fails with a
 * "JavaScript is required" error, as it does on the real site.
 */
(function () {
  "use strict";

  function solve(challenge, state) {
    var text = challenge + "|" + state;
    var hash = 0x811c9dc5;
    for (var round = 0; round < 64; round++) {
      for (var i = 0; i < text.length; i++) {
        hash ^= text.charCodeAt(i);
        hash = Math.imul(hash, 0x01000193) >>> 0;
      }
    }
    return ("00000000" + hash.toString(16)).slice(-8);
  }

  var form = document.querySelector("form[data-challenge]");
  if (!form) return;
  form.classList.add("js-ready");
  form.addEventListener("submit", function () {
    var state = form.querySelector("input[name=state]").value;
    form.querySelector("input[name=captcha]").value = solve(form.dataset.challenge, state);
    var button = form.querySelector("button[type=submit]");
    if (button) button.setAttribute("aria-busy", "true");
  });
})();
