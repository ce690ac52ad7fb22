/* Behaviour every page needs, without inline event handlers (the Content-Security-Policy refuses
 * them): a select marked data-autosubmit submits its form on change (the language switch), a
 * button marked data-print prints the page. Loaded with defer from base.html. */
(function () {
  "use strict";
  document.addEventListener("change", function (e) {
    var t = e.target;
    if (t && t.matches && t.matches("select[data-autosubmit]") && t.form) t.form.submit();
  });
  document.addEventListener("click", function (e) {
    var t = e.target && e.target.closest && e.target.closest("button[data-print]");
    if (t) window.print();
  });
})();
