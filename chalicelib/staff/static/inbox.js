// The staff inbox's one script. Every page works without it; it only stops double submits
// and takes keyboard and screen-reader users to an error summary.
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.getAttribute("data-sent") === "yes") {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-sent", "yes");
    // Disabled on the next turn: a button disabled now would be left out of what is sent.
    window.setTimeout(function () {
      form.querySelectorAll("button").forEach(function (button) {
        button.disabled = true;
      });
    }, 0);
  });

  // Back to a page kept in memory: its forms can be sent again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      form.removeAttribute("data-sent");
      form.querySelectorAll("button").forEach(function (button) {
        button.disabled = false;
      });
    });
  });

  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
  }
})();
