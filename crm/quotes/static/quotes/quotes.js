// Quote form (QUO-1): remove a line row. Adding and pricing rows is done with htmx.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-remove-line]");
  if (!button) return;
  const row = button.closest("tr");
  if (row) row.remove();
});
