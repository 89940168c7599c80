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
