/* Console behaviour that needs script. No inline script is allowed by the CSP, so
   everything lives here. */
(function () {
  "use strict";

  // Forms and buttons with data-confirm ask before submitting (for non-htmx forms).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  }, true);

  // When an htmx request fails without a swappable body, say so instead of doing nothing.
  document.addEventListener("htmx:responseError", function (event) {
    var box = document.getElementById("flashes");
    if (!box) { return; }
    var div = document.createElement("div");
    div.className = "flash flash-error";
    div.setAttribute("role", "alert");
    div.textContent = (document.body.getAttribute("data-error-text") || "Request failed") +
      " (" + event.detail.xhr.status + ")";
    box.appendChild(div);
  });
})();
