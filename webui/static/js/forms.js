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

// Rows of a group (the measures of an action plan) added and removed in place. Without
// JavaScript «+ Legg til rad» posts the form back with one more row, and blank rows are dropped
// when the form is saved; with it, a row is copied from the last one, emptied and numbered after
// the highest row number in use (the server reads rows by number, gaps and all).
(function () {
  "use strict";
  var ATTRIBUTES = ["name", "id", "for", "aria-describedby"];
  document.querySelectorAll("fieldset.group[data-rows]").forEach(function (group) {
    var name = group.getAttribute("data-rows");
    var add = group.querySelector('button[name="_add_row"]');
    if (!add) { return; }
    var minimum = parseInt(group.getAttribute("data-min-rows") || "1", 10);
    var rowLabel = group.getAttribute("data-row-label") || "Rad {n}";
    var removeLabel = group.getAttribute("data-remove-label") || "Fjern rad {n}";
    var numbered = new RegExp("^(f-)?" + name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "-(\\d+)-");

    function rows() {
      return Array.prototype.filter.call(group.children, function (el) { return el.hasAttribute("data-row"); });
    }
    function nextIndex() {
      var highest = -1;
      group.querySelectorAll("[name]").forEach(function (el) {
        var m = numbered.exec(el.getAttribute("name"));
        if (m) { highest = Math.max(highest, parseInt(m[2], 10)); }
      });
      return highest + 1;
    }
    function renumber() {
      var all = rows();
      all.forEach(function (row, i) {
        var legend = row.querySelector("legend");
        if (legend) { legend.textContent = rowLabel.replace("{n}", i + 1); }
        var remove = row.querySelector(".row-remove");
        if (remove) {
          remove.textContent = removeLabel.replace("{n}", i + 1);
          remove.hidden = all.length <= minimum;
        }
      });
    }
    function withRemove(row) {
      var old = row.querySelector(".row-remove");
      if (old) { old.remove(); }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-quiet row-remove";
      button.addEventListener("click", function () {
        if (rows().length <= minimum) { return; }
        row.remove();
        renumber();
        add.focus();
      });
      row.appendChild(button);
    }
    function emptied(row, n) {
      row.querySelectorAll(".error-text").forEach(function (el) { el.remove(); });
      row.querySelectorAll(".invalid").forEach(function (el) { el.classList.remove("invalid"); });
      row.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
      row.querySelectorAll("*").forEach(function (el) {
        ATTRIBUTES.forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (!value) { return; }
          var parts = value.split(" ").filter(function (part) { return !/-error$/.test(part); });
          var renamed = parts.map(function (part) {
            return part.replace(numbered, function (_m, prefix) { return (prefix || "") + name + "-" + n + "-"; });
          }).join(" ");
          if (renamed) { el.setAttribute(attr, renamed); } else { el.removeAttribute(attr); }
        });
      });
      row.querySelectorAll("input, textarea, select").forEach(function (el) {
        if (el.type === "hidden") { return; }  // a checkbox's "false" fallback stays
        if (el.type === "checkbox" || el.type === "radio") { el.checked = false; } else { el.value = ""; }
      });
      return row;
    }
    rows().forEach(withRemove);
    renumber();
    add.addEventListener("click", function (event) {
      event.preventDefault();
      var all = rows();
      var copy = emptied(all[all.length - 1].cloneNode(true), nextIndex());
      withRemove(copy);
      all[all.length - 1].after(copy);
      renumber();
      var first = copy.querySelector("input:not([type=hidden]), textarea, select");
      if (first) { first.focus(); }
    });
  });
})();

// The report form's accused picker lists the staff of the school chosen above it, fetched when
// the school changes. Without JavaScript, «Vis ansatte ved skolen» sends the form back instead
// (everything written is kept); it stays as the way out if the fetch fails.
(function () {
  "use strict";
  var school = document.querySelector("select[data-staff-url]");
  if (!school) { return; }
  var picker = document.getElementById(school.getAttribute("data-staff-for"));
  var refresh = school.form.querySelector("[data-staff-refresh]");
  if (!picker) { return; }
  if (refresh) { refresh.hidden = true; }
  var asked = 0;

  function fill(options, emptyText) {
    while (picker.options.length) { picker.remove(0); }
    picker.add(new Option(emptyText, ""));
    options.forEach(function (pair) { picker.add(new Option(pair[1] + " (" + pair[0] + ")", pair[0])); });
  }
  school.addEventListener("change", function () {
    var ask = ++asked;  // a later choice wins over an answer still on its way
    fill([], school.getAttribute("data-staff-waiting"));
    picker.disabled = true;
    if (!school.value) { return; }
    var url = school.getAttribute("data-staff-url") + "?skole=" + encodeURIComponent(school.value);
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (data) {
        if (ask !== asked) { return; }
        fill(data.options, school.getAttribute("data-staff-empty"));
        picker.disabled = false;
      })
      .catch(function () {
        if (ask === asked && refresh) { refresh.hidden = false; }
      });
  });
})();
