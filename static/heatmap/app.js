// Select all / none for the run controls' checkboxes; a change event re-asks the task count.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-check]");
  if (!button) return;
  const form = button.closest("form");
  const checked = button.dataset.value === "all";
  form.querySelectorAll(`input[type=checkbox][name="${button.dataset.check}"]:not(:disabled)`)
    .forEach((box) => { box.checked = checked; });
  form.dispatchEvent(new Event("change", { bubbles: true }));
});

// The domain page's view toggle: the linter matrix is swapped in by htmx, so mark its link
// as the current view (the "Model checks" link reloads the page, which resets the mark).
document.addEventListener("click", (event) => {
  const link = event.target.closest(".view-toggle a[hx-get]");
  if (!link) return;
  link.parentElement.querySelectorAll("a").forEach((a) => a.removeAttribute("aria-current"));
  link.setAttribute("aria-current", "page");
});
