// Print pages (CUS-17): the 打印 button prints; the envelope template picker re-renders on change.
(() => {
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-print]");
    if (button) {
      event.preventDefault();
      window.print();
    }
    const close = event.target.closest("[data-close]");
    if (close) {
      event.preventDefault();
      if (window.opener) window.close();
      else window.history.back();
    }
  });
  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-autosubmit]")) event.target.form.requestSubmit();
  });
})();
