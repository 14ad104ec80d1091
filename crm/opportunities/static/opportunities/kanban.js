/* Kanban board of opportunities (OPP-1): drag a card to another column (SortableJS).
   An open column: htmx POST of the new stage; the server answers the board re-read from the
   database, so a refused move puts the card back and shows the message.
   赢单 / 输单 columns: the win / lose form opens; cancelling re-reads the board. */
(function () {
  "use strict";

  // Tabler's bundle exposes Bootstrap's components as window.tabler.Modal and so on.
  function modalOf(el) { return (window.bootstrap || window.tabler).Modal.getOrCreateInstance(el); }

  function board() { return document.getElementById("board"); }

  function reload() {
    var el = board();
    if (el) htmx.ajax("GET", el.dataset.boardUrl, { target: "#board", swap: "outerHTML" });
  }

  function openModal(id, card) {
    var modal = document.getElementById(id);
    if (!modal) { reload(); return; }
    var form = modal.querySelector("form");
    var url = id === "win-modal" ? card.dataset.winUrl : card.dataset.loseUrl;
    form.setAttribute("hx-post", url);
    htmx.process(form);
    modal.querySelectorAll("[data-opp-name]").forEach(function (n) { n.textContent = card.dataset.name; });
    modal.dataset.pending = "1";
    var instance = modalOf(modal);
    modal.addEventListener("hidden.bs.modal", function onHidden() {
      modal.removeEventListener("hidden.bs.modal", onHidden);
      if (modal.dataset.pending === "1") reload();
    });
    instance.show();
  }

  function init(root) {
    (root || document).querySelectorAll(".kanban-cards[data-sortable]").forEach(function (list) {
      if (list._sortable) return;
      list._sortable = Sortable.create(list, {
        group: "kanban",
        animation: 150,
        draggable: ".kanban-card",
        onEnd: function (evt) {
          if (evt.from === evt.to) return;
          var card = evt.item;
          var kind = evt.to.dataset.kind;
          if (kind === "won") { openModal("win-modal", card); return; }
          if (kind === "lost") { openModal("lose-modal", card); return; }
          htmx.ajax("POST", card.dataset.moveUrl, {
            target: "#board",
            swap: "outerHTML",
            values: { stage: evt.to.dataset.stage },
          });
        },
      });
    });
  }

  document.addEventListener("click", function (event) {
    var cancel = event.target.closest("[data-cancel-move]");
    if (!cancel) return;
    var modal = cancel.closest(".modal");
    modalOf(modal).hide();
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    var modal = event.target.closest && event.target.closest(".modal");
    if (modal) {
      modal.dataset.pending = "0";
      modalOf(modal).hide();
    }
  });

  document.addEventListener("htmx:beforeSwap", function () {
    document.querySelectorAll(".modal-backdrop").forEach(function (b) { b.remove(); });
    document.body.classList.remove("modal-open");
    document.body.style.removeProperty("overflow");
    document.body.style.removeProperty("padding-right");
  });

  document.addEventListener("htmx:afterSettle", function () { init(document); });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
})();
