// newsdedup dashboard: small progressive enhancements; every page works without this file.
// No window.confirm(): inside Airflow the page lives in a sandboxed iframe without
// allow-modals, where dialogs are suppressed. Actions ask for a reason instead.
(function () {
  "use strict";
  // Hovering a provenance tag lights up its member everywhere on the page.
  function mark(id, on) {
    document.querySelectorAll('[data-member="' + id + '"]').forEach(function (el) {
      el.classList.toggle("lit", on);
    });
  }
  document.addEventListener("mouseover", function (ev) {
    var t = ev.target.closest && ev.target.closest(".tag[data-member]");
    if (t) mark(t.getAttribute("data-member"), true);
  });
  document.addEventListener("mouseout", function (ev) {
    var t = ev.target.closest && ev.target.closest(".tag[data-member]");
    if (t) mark(t.getAttribute("data-member"), false);
  });
  // A split form opened: put the cursor in its reason field.
  document.addEventListener("toggle", function (ev) {
    var d = ev.target;
    if (d.tagName === "DETAILS" && d.open) {
      var input = d.querySelector("input[name=why]");
      if (input) input.focus();
    }
  }, true);
})();
