// Progressive enhancement only: every page works without this file.
// Confirm destructive actions marked with data-confirm (no inline scripts, CSP-safe).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
