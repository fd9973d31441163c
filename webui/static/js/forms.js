// Shows a field only when another field has one of the given values (e.g. the accused picker
// when the offender is an employee). Without JavaScript the field is simply always shown.
(function () {
  "use strict";
  document.querySelectorAll("[data-show-when]").forEach(function (wrapper) {
    var name = wrapper.getAttribute("data-show-when");
    var values = (wrapper.getAttribute("data-show-values") || "").split(",");
    var form = wrapper.closest("form");
    if (!form) { return; }
    var hint = wrapper.querySelector(".hint");
    if (hint) { hint.hidden = true; }
    function update() {
      var chosen = form.querySelector('[name="' + name + '"]:checked') || form.querySelector('select[name="' + name + '"]');
      var show = !!chosen && values.indexOf(chosen.value) !== -1;
      wrapper.hidden = !show;
      if (!show) {
        // A hidden choice must not quietly exclude a colleague from the case.
        wrapper.querySelectorAll("select, input").forEach(function (el) { el.value = ""; });
      }
    }
    form.querySelectorAll('[name="' + name + '"]').forEach(function (el) { el.addEventListener("change", update); });
    update();
  });
})();

// A form sent back with errors: move focus to the summary (role="alert", tabindex="-1"), so a
// keyboard or screen reader user starts there and follows its links to the fields.
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary[tabindex]");
  if (summary) { summary.focus(); }
})();
