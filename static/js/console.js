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

  // Forms marked data-submit-once (e.g. "Send now") cannot be submitted twice by a double click.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-submit-once") || event.defaultPrevented) { return; }
    if (form.getAttribute("data-submitted")) { event.preventDefault(); return; }
    form.setAttribute("data-submitted", "true");
    // Disable after the browser has collected the form data, so the submission is unchanged.
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
  });

  // The template editor hides the Kakao-only fields while an SMS/LMS text is being written.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (select.name !== "kind" || !select.form || !select.form.classList.contains("template-form")) { return; }
    select.form.setAttribute("data-kind", select.value);
  });
})();
