// The main menu on a phone: folded behind «Meny» (a button with aria-expanded), so the header
// takes one line. Without this script the whole menu is shown, as on a desktop.
(function () {
  "use strict";
  var top = document.querySelector(".top");
  var button = top && top.querySelector(".menu-toggle");
  var menu = document.getElementById("hovedmeny");
  if (!button || !menu) { return; }
  top.classList.add("js-menu");
  button.hidden = false;
  function set(open) {
    top.classList.toggle("menu-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }
  button.addEventListener("click", function () { set(!top.classList.contains("menu-open")); });
  // Escape closes an open menu and gives focus back to its button.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && top.classList.contains("menu-open")) {
      set(false);
      button.focus();
    }
  });
}());
