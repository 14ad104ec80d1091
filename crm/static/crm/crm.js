// Small behaviours without inline scripts (the content security policy forbids them).
// A confirmation on the button that submits (one form, several actions) or on the form itself.
document.addEventListener("submit", (event) => {
  const source = event.submitter?.closest("[data-confirm]") || event.target.closest("form[data-confirm]");
  if (source && !window.confirm(source.dataset.confirm)) event.preventDefault();
});
document.addEventListener("click", (event) => {
  const all = event.target.closest("[data-check-all], [data-uncheck-all]");
  if (!all) return;
  const checked = all.hasAttribute("data-check-all");
  all.closest("form").querySelectorAll('input[name="permissions"]').forEach((box) => { box.checked = checked; });
});
document.addEventListener("DOMContentLoaded", () => {
  // User pickers load matching colleagues as the user types, instead of every user in the page.
  document.querySelectorAll("select[data-user-picker]").forEach((el) => {
    if (!window.TomSelect || el.tomselect) return;
    new TomSelect(el, {
      plugins: el.multiple ? ["remove_button"] : [],
      valueField: "value",
      labelField: "text",
      searchField: ["text"],
      preload: "focus",
      shouldLoad: () => true,
      load: (query, callback) => {
        const url = el.dataset.userPicker;
        const joiner = url.includes("?") ? "&" : "?";
        fetch(`${url}${joiner}q=${encodeURIComponent(query)}`, { credentials: "same-origin" })
          .then((response) => response.json())
          .then(callback)
          .catch(() => callback());
      },
    });
  });
  document.querySelectorAll("select[multiple]").forEach((el) => {
    if (window.TomSelect && !el.tomselect) new TomSelect(el, { plugins: ["remove_button"] });
  });
});
