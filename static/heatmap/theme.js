// Dark or light, before the first paint: loaded without defer in <head>, after the dark
// stylesheet's <link>, whose media this sets. The header's "Dark mode" button overrides the
// system's prefers-color-scheme; the choice is kept in localStorage, and choosing what the
// system says forgets it (the page follows the system again).
(function () {
  const KEY = "skillcheck-theme";
  const system = window.matchMedia("(prefers-color-scheme: dark)");

  function stored() {
    try { return localStorage.getItem(KEY); } catch (error) { return null; }  // storage off
  }

  function apply() {
    const choice = stored();
    const dark = choice === "dark" || (choice !== "light" && system.matches);
    const link = document.getElementById("dark-css");
    if (link) link.media = choice === "dark" ? "all" : choice === "light" ? "not all" : "(prefers-color-scheme: dark)";
    document.documentElement.dataset.theme = dark ? "dark" : "light";
    document.querySelectorAll("[data-theme-toggle]").forEach((button) => {
      button.hidden = false;
      button.setAttribute("aria-pressed", String(dark));
    });
  }

  apply();
  system.addEventListener("change", apply);
  document.addEventListener("DOMContentLoaded", apply);
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("[data-theme-toggle]");
    if (!button) return;
    const dark = document.documentElement.dataset.theme !== "dark";
    try {
      if (dark === system.matches) localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, dark ? "dark" : "light");
    } catch (error) { /* storage off: this page only */ }
    apply();
    if (stored() === null) {  // storage off or the system's choice: apply it to this page
      const link = document.getElementById("dark-css");
      if (link && dark !== system.matches) link.media = dark ? "all" : "not all";
      document.documentElement.dataset.theme = dark ? "dark" : "light";
      button.setAttribute("aria-pressed", String(dark));
    }
  });
})();
