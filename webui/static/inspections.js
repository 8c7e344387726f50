/* The inspection form: the inspector's totals follow the scores as they are typed.
   Only a convenience: the form works without it, and the server works out the
   totals and the grade from what is saved. A score that is not a number, or
   is outside 0..points, counts as nothing here (the server says what is wrong). */
(function () {
  "use strict";
  var form = document.querySelector("form[data-insp-sheet]");
  if (!form) {
    return;
  }
  var inputs = form.querySelectorAll("input[data-insp-cat]");
  var cells = document.querySelectorAll("[data-insp-total]");
  var notice = document.querySelector("[data-insp-unsaved]");

  function parse(text) {
    var value = text.trim().replace(",", ".");
    return /^[+-]?[0-9]+(\.[0-9]+)?$/.test(value) ? parseFloat(value) : null;
  }

  function show(value) {
    return String(Math.round(value * 100) / 100);
  }

  function update() {
    var sums = {};
    inputs.forEach(function (input) {
      var value = parse(input.value);
      var cat = input.getAttribute("data-insp-cat");
      var most = parseFloat(input.getAttribute("data-insp-max"));
      sums[cat] = sums[cat] || 0;
      if (value !== null && value >= 0 && value <= most) {
        sums[cat] += value;
      }
    });
    var all = 0;
    cells.forEach(function (cell) {
      var cat = cell.getAttribute("data-insp-total");
      if (cat === "*") {
        return;
      }
      var capped = Math.min(sums[cat] || 0, parseFloat(cell.getAttribute("data-insp-max")));
      all += capped;
      cell.textContent = show(capped);
    });
    cells.forEach(function (cell) {
      if (cell.getAttribute("data-insp-total") === "*") {
        cell.textContent = show(all);
      }
    });
    if (notice) {
      notice.hidden = false;
    }
  }

  inputs.forEach(function (input) {
    input.addEventListener("input", update);
  });
})();
