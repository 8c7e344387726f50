// The content editor without surprises: a warning before leaving with unsaved
// changes, and a question before removing a section that has items. The
// editor works without this file; it only adds these two safeguards.
(function () {
  "use strict";
  var form = document.getElementById("editor");
  if (!form) {
    return;
  }
  var changed = form.getAttribute("data-unsaved") === "1";
  var submitting = false;
  form.addEventListener("input", function () {
    changed = true;
  });
  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = button && button.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    submitting = true;
  });
  window.addEventListener("beforeunload", function (event) {
    if (changed && !submitting) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
