// Customer list: tick every row at once, and keep the bulk buttons off until a row is ticked.
(() => {
  const sync = (form) => {
    const ticked = form.querySelectorAll('input[name="ids"]:checked').length;
    form.querySelectorAll("[data-needs-selection]").forEach((el) => { el.disabled = ticked === 0; });
    const counter = form.querySelector("[data-selection-count]");
    if (counter) counter.textContent = ticked;
  };
  document.addEventListener("change", (event) => {
    const form = event.target.closest("form[data-bulk-form]");
    if (!form) return;
    if (event.target.matches("[data-select-all]")) {
      form.querySelectorAll('input[name="ids"]').forEach((box) => { box.checked = event.target.checked; });
    }
    sync(form);
  });
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("form[data-bulk-form]").forEach(sync);
  });
})();
