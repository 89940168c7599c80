// Small behaviours on top of htmx; the pages work without them (plain forms and links).

// Select all / none for the run controls' checkboxes; a change event re-asks the plan line.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-check]");
  if (!button) return;
  const form = button.closest("form");
  const checked = button.dataset.value === "all";
  form.querySelectorAll(`input[type=checkbox][name="${button.dataset.check}"]:not(:disabled)`)
    .forEach((box) => { box.checked = checked; });
  form.dispatchEvent(new Event("change", { bubbles: true }));
});

// Run all: tick every domain and available model where the user can see it, refresh the plan
// line (and its cost confirmation), then submit. A confirmation box that is required and not
// ticked stops the submission, so an expensive "Run all" never starts unseen.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-run-all]");
  if (!button || !window.htmx) return;
  event.preventDefault();
  const form = button.closest("form");
  form.querySelectorAll("input[type=checkbox][name=domains]:not(:disabled), input[type=checkbox][name=models]:not(:disabled)")
    .forEach((box) => { box.checked = true; });
  htmx.ajax("GET", form.getAttribute("hx-get"), { source: form, target: "#run-plan", swap: "outerHTML" })
    .then(() => form.requestSubmit(button));
});

// The end of a run: enable Run / Run all and refresh the tables at once. The progress panel
// learns it over the WebSocket; without one, the last poll (answered 286) tells it.
function runEnded() {
  document.querySelectorAll("button[data-run-button]").forEach((button) => {
    button.disabled = false;
    button.removeAttribute("title");
  });
  if (document.body.dataset.runEnded) return;
  document.body.dataset.runEnded = "1";
  // Polled fragments listen for this (hx-trigger "… run-ended from:body").
  if (window.htmx) htmx.trigger(document.body, "run-ended");
}

function checkProgress(element) {
  const body = element && element.id === "progress-body" ? element : element && element.querySelector && element.querySelector("#progress-body");
  if (!body) return;
  const status = body.dataset.status;
  if (status && !["pending", "queued", "running"].includes(status)) runEnded();
}

document.addEventListener("htmx:load", (event) => checkProgress(event.detail.elt));
document.addEventListener("htmx:oobAfterSwap", (event) => checkProgress(event.detail.target));
document.addEventListener("htmx:afterRequest", (event) => {
  const xhr = event.detail.xhr;
  if (xhr && xhr.status === 286) runEnded();
});

// The domain page's view toggle: the linter matrix is swapped in by htmx, so mark its link
// as the current view (the "Model checks" link reloads the page, which resets the mark).
document.addEventListener("click", (event) => {
  const link = event.target.closest(".view-toggle a[hx-get]");
  if (!link) return;
  link.parentElement.querySelectorAll("a").forEach((a) => a.removeAttribute("aria-current"));
  link.setAttribute("aria-current", "page");
});
