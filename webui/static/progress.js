/* The progress board: a file chosen over the evidence limit is refused at once, next to
   its field, before anything is sent (the report typed so far stays in the form).
   Only a convenience: without it the server refuses the file the same way and shows
   the form again with the report kept. The limit and the words come from the page
   (data-max-bytes, data-too-large with "{size}" for the file's size). */
(function () {
  "use strict";
  var inputs = document.querySelectorAll("input[type=file][data-max-bytes]");
  var lang = document.documentElement.lang || undefined;

  // The server's units: bytes, then kB and MB of 1024, one decimal at most.
  function size(bytes) {
    var unit = "byte";
    var value = bytes;
    if (bytes >= 1024 * 1024) {
      unit = "megabyte";
      value = bytes / 1024 / 1024;
    } else if (bytes >= 1024) {
      unit = "kilobyte";
      value = bytes / 1024;
    }
    try {
      return new Intl.NumberFormat(lang, {
        style: "unit",
        unit: unit,
        unitDisplay: unit === "byte" ? "long" : "short",
        maximumFractionDigits: 1
      }).format(value);
    } catch (e) {
      return String(Math.round(value * 10) / 10) + (unit === "byte" ? " B" : unit === "kilobyte" ? " kB" : " MB");
    }
  }

  function describedBy(input, id, add) {
    var ids = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (x) {
      return x && x !== id;
    });
    if (add) {
      ids.push(id);
    }
    if (ids.length) {
      input.setAttribute("aria-describedby", ids.join(" "));
    } else {
      input.removeAttribute("aria-describedby");
    }
  }

  // Whether the chosen file (if any) is within the limit; shows or clears the note.
  function check(input) {
    var most = parseInt(input.getAttribute("data-max-bytes"), 10);
    var file = input.files && input.files[0];
    var id = input.id + "-too-large";
    var note = document.getElementById(id);
    if (!file || !(file.size > most)) {
      if (note) {
        note.parentNode.removeChild(note);
        describedBy(input, id, false);
        input.removeAttribute("aria-invalid");
      }
      return true;
    }
    if (!note) {
      note = document.createElement("p");
      note.className = "error";
      note.id = id;
      note.setAttribute("role", "alert");
      input.parentNode.insertBefore(note, input.nextSibling);
    }
    note.textContent = input.getAttribute("data-too-large").replace("{size}", size(file.size));
    describedBy(input, id, true);
    input.setAttribute("aria-invalid", "true");
    return false;
  }

  inputs.forEach(function (input) {
    input.addEventListener("change", function () {
      check(input);
    });
    if (input.form) {
      input.form.addEventListener("submit", function (event) {
        if (!check(input)) {
          event.preventDefault();
          input.focus();
        }
      });
    }
  });
})();
