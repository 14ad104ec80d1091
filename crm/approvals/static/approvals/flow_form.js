// The flow form: add a step row from the formset's empty form; show the approver field that
// matches the approver type.
(function () {
  "use strict";
  const container = document.getElementById("steps");
  const template = document.getElementById("step-template");
  const total = document.getElementById("id_steps-TOTAL_FORMS");
  if (!container || !template || !total) return;

  function sync(row) {
    const type = row.querySelector("select[name$='-approver_type']");
    if (!type) return;
    row.querySelectorAll("[data-approver]").forEach(function (el) {
      el.classList.toggle("d-none", el.dataset.approver !== type.value);
    });
  }

  container.querySelectorAll(".step-form").forEach(function (row, index) {
    const order = row.querySelector("input[name$='-ORDER']");
    if (order && !order.value) order.value = String(index + 1);
    sync(row);
  });
  container.addEventListener("change", function (event) {
    if (event.target.matches("select[name$='-approver_type']")) sync(event.target.closest(".step-form"));
  });
  document.getElementById("add-step").addEventListener("click", function () {
    const index = parseInt(total.value, 10);
    const html = template.innerHTML.replace(/__prefix__/g, String(index));
    container.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    const row = container.lastElementChild;
    const order = row.querySelector("input[name$='-ORDER']");
    if (order) order.value = String(index + 1);
    sync(row);
  });
})();
