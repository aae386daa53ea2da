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
