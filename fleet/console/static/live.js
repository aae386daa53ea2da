// The console's only script: a section with data-live="URL" is replaced by what the
// server sends on that URL's event stream (server-sent events), so figures change as
// sales arrive, without a reload. Reconnection is the browser's own (EventSource).
document.addEventListener("DOMContentLoaded", () => {
  for (const section of document.querySelectorAll("[data-live]")) {
    const source = new EventSource(section.dataset.live);
    source.addEventListener("update", (event) => {
      section.innerHTML = event.data;
      section.dataset.updated = String(Number(section.dataset.updated || 0) + 1);
    });
    source.addEventListener("signed-out", () => {
      source.close();
      window.location.reload();
    });
  }
});

// A scan field (data-scan) keeps the focus, as a USB scanner types where the focus is:
// given back after a click on the page's background; its form is sent once (a second
// Enter before the answer is not sent; the server's nonce refuses one that is).
document.addEventListener("DOMContentLoaded", () => {
  const field = document.querySelector("[data-scan]");
  if (!field) return;
  field.focus();
  document.addEventListener("click", (event) => {
    if (!event.target.closest("a, button, input, select, textarea, label")) field.focus();
  });
  field.form.addEventListener("submit", (event) => {
    if (field.form.dataset.sent) event.preventDefault();
    field.form.dataset.sent = "1";
  });
});
