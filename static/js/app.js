// Roster's small progressive enhancements. Every page works without them.
(function () {
  "use strict";
  // Confirm dangerous actions: <form data-confirm="Really?">.
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (f instanceof HTMLFormElement && f.dataset.confirm && !window.confirm(f.dataset.confirm)) {
      e.preventDefault();
    }
    // Block double submits of one form (the server is idempotent anyway).
    if (f instanceof HTMLFormElement && !e.defaultPrevented && f.dataset.once !== undefined) {
      if (f.dataset.sent) { e.preventDefault(); return; }
      f.dataset.sent = "1";
    }
  });
  // Copy buttons: <button type="button" data-copy="#id">.
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-copy]");
    if (!b) return;
    var src = document.querySelector(b.dataset.copy);
    if (!src || !navigator.clipboard) return;
    navigator.clipboard.writeText(src.value || src.textContent).then(function () {
      var old = b.textContent; b.textContent = "Copied"; setTimeout(function () { b.textContent = old; }, 1500);
    });
  });
  // Shift-click range selection over checkboxes in a [data-range-select] table.
  var last = null;
  document.addEventListener("click", function (e) {
    var box = e.target;
    if (!(box instanceof HTMLInputElement) || box.type !== "checkbox") return;
    var scope = box.closest("[data-range-select]");
    if (!scope) return;
    var boxes = Array.prototype.slice.call(scope.querySelectorAll("input[type=checkbox][data-row]"));
    if (e.shiftKey && last && boxes.indexOf(last) >= 0) {
      var a = boxes.indexOf(last), b = boxes.indexOf(box);
      boxes.slice(Math.min(a, b), Math.max(a, b) + 1).forEach(function (x) { x.checked = box.checked; });
    }
    last = box;
  });
  // "Select all on this page" checkbox.
  document.addEventListener("change", function (e) {
    var all = e.target;
    if (!(all instanceof HTMLInputElement) || all.dataset.selectAll === undefined) return;
    var scope = all.closest("[data-range-select]");
    if (!scope) return;
    scope.querySelectorAll("input[type=checkbox][data-row]").forEach(function (x) { x.checked = all.checked; });
  });
})();
