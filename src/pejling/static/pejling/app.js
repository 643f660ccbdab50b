// Progressive enhancement only: every page works without this file.
// Confirm destructive actions marked with data-confirm (no inline scripts, CSP-safe).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

// The menu is a <details> that CSS shows open from 768 px; keep its state honest for assistive
// technology there (open on wide screens, closed when the screen narrows).
const siteMenu = document.querySelector("[data-site-menu]");
if (siteMenu instanceof HTMLDetailsElement) {
  const wide = window.matchMedia("(min-width: 768px)");
  const sync = () => { siteMenu.open = wide.matches; };
  sync();
  wide.addEventListener("change", sync);
}
