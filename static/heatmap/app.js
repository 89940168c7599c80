// Small behaviours on top of htmx; the pages work without them (plain forms and links).

// Select all / none for the run controls' checkboxes; a change event re-asks the plan line.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-check]");
  if (!button) return;
  const form = button.closest("form");
  const checked = button.dataset.value === "all";
  form.querySelectorAll(`input[type=checkbox][name="${button.dataset.check}"]:not(:disabled)`)
    .forEach((box) => { box.checked = checked; });
  button.dispatchEvent(new Event("change", { bubbles: true }));  // bubbles to the plan request
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
  const body = form.querySelector("[hx-get]");
  htmx.ajax("GET", body.getAttribute("hx-get"), { source: body, target: "#run-plan", swap: "outerHTML" })
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

// Live polls: the server answers a fragment with an ETag, and the browser revalidates it
// (If-None-Match; an unchanged one costs the server a 304, which the browser turns back into
// the copy it holds). A copy already on the page is not swapped in again, so nothing flickers,
// scrolls back or loses focus between two changes.
const swappedETags = new Map();
document.addEventListener("htmx:beforeSwap", (event) => {
  const xhr = event.detail.xhr;
  const target = event.detail.target;
  const etag = xhr && xhr.getResponseHeader("ETag");
  if (!etag || !target || !target.id || xhr.status !== 200) return;
  const key = `${target.id} ${event.detail.pathInfo.requestPath}`;
  if (swappedETags.get(key) === etag && document.body.contains(target)) event.detail.shouldSwap = false;
  swappedETags.set(key, etag);
});

// Filters: leave empty fields out of the URL htmx requests and pushes, so shared links stay short.
document.addEventListener("htmx:configRequest", (event) => {
  if (!event.detail.elt.matches || !event.detail.elt.matches("form.filters")) return;
  const params = event.detail.parameters;
  const entries = params instanceof FormData ? [...params.keys()] : Object.keys(params);
  entries.forEach((key) => {
    const value = params instanceof FormData ? params.getAll(key) : params[key];
    const empty = Array.isArray(value) ? value.every((v) => v === "") : value === "";
    if (empty) { if (params instanceof FormData) params.delete(key); else delete params[key]; }
  });
});

// Matrix cells: the clicked cell stays highlighted (also across the live refreshes), and the
// arrow keys move between cells, opening each one's detail as they go. A cell is a <td> of a
// .matrix holding one link; its key ("scenario|check|model", or "skill|check" in the BP
// matrix) is read from that link, as the detail panel's data-cell-key spells it.
const CELL = ".matrix td";

function cellKey(cell) {
  const link = cell.querySelector("a");
  if (!link) return "";
  const params = new URL(link.href, document.baseURI).searchParams;
  return [params.get("scenario") || params.get("skill"), params.get("check"), params.get("clicked")]
    .filter((part) => part !== null).join("|");
}

function selectCell(cell) {
  const matrix = cell.closest(".matrix");
  if (!matrix) return;
  // aria-current on the cell's link, not aria-selected on the <td>: a table is no grid, and
  // axe-core rejects aria-selected there (aria-allowed-attr).
  matrix.querySelectorAll("td.selected").forEach((td) => {
    td.classList.remove("selected");
    td.querySelector("a")?.removeAttribute("aria-current");
  });
  cell.classList.add("selected");
  cell.querySelector("a")?.setAttribute("aria-current", "true");
  document.body.dataset.selectedCell = cellKey(cell);
}

function restoreSelection(root) {
  const key = document.body.dataset.selectedCell
    || (document.querySelector("#detail-panel [data-cell-key]") || {}).dataset?.cellKey;
  if (!key) return;
  const cell = [...(root || document).querySelectorAll(CELL)].find((td) => cellKey(td) === key);
  if (cell) selectCell(cell);
}

document.addEventListener("click", (event) => {
  const cell = event.target.closest(CELL);
  if (cell && cell.querySelector("a")) selectCell(cell);
});

const MOVES = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };

document.addEventListener("keydown", (event) => {
  const move = MOVES[event.key];
  const link = event.target.closest && event.target.closest(`${CELL} a`);
  if (!move || !link || event.altKey || event.ctrlKey || event.metaKey) return;
  const cell = link.closest("td");
  const rows = [...cell.closest("tbody").querySelectorAll("tr")].filter((tr) => tr.querySelector("td"));
  const row = rows.indexOf(cell.parentElement);
  const col = [...cell.parentElement.querySelectorAll("td")].indexOf(cell);
  const target = rows[row + move[0]] && rows[row + move[0]].querySelectorAll("td")[col + move[1]];
  if (!target) return;
  event.preventDefault();
  const next = target.querySelector("a");
  next.focus();
  next.scrollIntoView({ block: "nearest", inline: "nearest" });
  next.click();
});

// Sticky matrix header: the second header row sits under the first, whatever its height.
function stickHeaders(root) {
  (root || document).querySelectorAll(".matrix thead").forEach((head) => {
    const first = head.querySelector("tr");
    if (first) head.closest("table").style.setProperty("--head1", `${first.offsetHeight}px`);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  stickHeaders();
  restoreSelection();
  // On a phone the filters start folded (unless some are on), so the table is on the first screen.
  if (window.matchMedia("(max-width: 600px)").matches) {
    document.querySelectorAll("details.filter-box:not([data-active])").forEach((box) => { box.open = false; });
  }
});
document.addEventListener("htmx:afterSwap", (event) => {
  stickHeaders();
  if (event.detail.target && event.detail.target.id === "detail-panel") {
    // On a narrow screen the panel sits below the matrix: bring it into view.
    const panel = event.detail.target;
    if (panel.getBoundingClientRect().top > window.innerHeight) panel.scrollIntoView({ block: "start", behavior: "smooth" });
  } else {
    restoreSelection();
  }
});

// Scenario editor: a refused save or check answers 400/409 with the fragment that says why;
// htmx swaps only 2xx answers unless told.
document.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail.target;
  if (target && target.id === "scenario-result" && [400, 409].includes(event.detail.xhr.status)) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// Scenario editor: "Go to line N" puts the caret on that line and column of the YAML, in view.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-goto-line]");
  const area = button && document.getElementById("scenario-text");
  if (!area || area.tagName !== "TEXTAREA") return;
  const lines = area.value.split("\n");
  const line = Math.max(1, Math.min(Number(button.dataset.gotoLine) || 1, lines.length));
  const column = Math.max(1, Number(button.dataset.gotoColumn) || 1);
  let offset = 0;
  for (let i = 0; i < line - 1; i += 1) offset += lines[i].length + 1;
  offset += Math.min(column - 1, lines[line - 1].length);
  area.focus();
  area.setSelectionRange(offset, offset);
  const lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 19;
  area.scrollTop = Math.max(0, (line - 3) * lineHeight);
});

// A box that scrolls can be reached and scrolled by keyboard: while its content overflows it
// is a Tab stop, a region named after its table's caption or its section's heading (axe-core:
// scrollable-region-focusable). Checked on load, after each swap and when the window resizes.
function focusableScrollBoxes() {
  document.querySelectorAll(".scroll-box, .skill-source").forEach((box) => {
    const scrolls = box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
    if (scrolls && !box.hasAttribute("tabindex")) {
      const caption = box.querySelector("caption");
      const heading = box.closest("section, .panel, .main-col, main")?.querySelector("h1, h2");
      box.tabIndex = 0;
      box.dataset.scrollStop = "1";
      if (!box.hasAttribute("role")) box.setAttribute("role", "region");
      if (!box.hasAttribute("aria-label")) {
        const name = (caption || heading)?.textContent.trim().replace(/\s+/g, " ") || "Table";
        box.setAttribute("aria-label", `${name} (scrolls)`);
      }
    } else if (!scrolls && box.dataset.scrollStop) {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
      delete box.dataset.scrollStop;
    }
  });
}
document.addEventListener("DOMContentLoaded", focusableScrollBoxes);
document.addEventListener("htmx:afterSettle", focusableScrollBoxes);
let resizeTimer = 0;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(focusableScrollBoxes, 150);
});

// The cell detail by keyboard: Enter on a matrix cell opens its detail and moves focus to the
// detail's heading; Esc (in the detail or on a cell) closes it and gives focus back to the cell.
// A click or the arrow keys leave focus on the matrix, so moving through it stays quick.
let detailByEnter = false;
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && event.target.closest && event.target.closest(`${CELL} a`)) detailByEnter = true;
});
document.addEventListener("htmx:afterSwap", (event) => {
  if (!event.detail.target || event.detail.target.id !== "detail-panel" || !detailByEnter) return;
  detailByEnter = false;
  const heading = event.detail.target.querySelector("h2, h3");
  if (!heading) return;
  heading.tabIndex = -1;
  heading.dataset.detailFocus = "1";
  heading.focus();
});

const emptyDetail = new Map();  // the panel's first words, kept to put back when it closes
document.addEventListener("DOMContentLoaded", () => {
  const panel = document.getElementById("detail-panel");
  const empty = panel && panel.querySelector(".detail-empty");
  if (empty) emptyDetail.set(panel, empty.outerHTML);
});

document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || event.defaultPrevented) return;
  const panel = document.getElementById("detail-panel");
  const open = panel && panel.querySelector("[data-cell-key]");
  if (!open || !(panel.contains(event.target) || (event.target.closest && event.target.closest(CELL)))) return;
  event.preventDefault();
  const key = open.dataset.cellKey;
  const cell = [...document.querySelectorAll(CELL)].find((td) => cellKey(td) === key)
    || document.querySelector(`${CELL}.selected`);
  panel.innerHTML = emptyDetail.get(panel)
    || '<p class="detail-empty">Click a cell, or press Enter on it, to see its detail.</p>';
  document.querySelectorAll(`${CELL}.selected`).forEach((td) => {
    td.classList.remove("selected");
    td.querySelector("a")?.removeAttribute("aria-current");
  });
  delete document.body.dataset.selectedCell;
  if (cell && cell.querySelector("a")) cell.querySelector("a").focus();
});

// A select that shows what it names at once (the routing page's run picker): submit its form
// on change. An inline onchange would be refused by the Content-Security-Policy.
document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-submit-on-change]");
  if (select && select.form) select.form.requestSubmit();
});
