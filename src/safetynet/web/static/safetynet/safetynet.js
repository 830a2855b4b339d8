// Safetynet's own script: start the NHS.UK frontend components, and give every HTMX request the page's CSRF token.
// Pages work without it: every form is a plain HTML form first.
import { initAll } from "/static/nhsuk/nhsuk-frontend.min.js";

initAll();

// Swap error responses too (422 with the error summary, 403 with the reason): the server sends what to show.
if (window.htmx) {
  window.htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "[45]..", swap: true, error: true },
  ];
}

document.body.addEventListener("htmx:configRequest", (event) => {
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
  }
});

// When HTMX adds a fragment, start the NHS.UK components inside it (error summaries, character counts).
document.body.addEventListener("htmx:load", (event) => {
  if (event.detail.elt !== document.body) {
    initAll({ scope: event.detail.elt });
  }
});
