// Lizhi — progressive enhancement only; every page works without this file.
(function () {
  "use strict";
  // Live search on the employee list: fetch the table partial as the user types.
  var input = document.querySelector("[data-live-search]");
  if (!input || !window.fetch) { return; }
  var form = input.form;
  var target = document.getElementById("employee-table");
  var timer = null;
  var seq = 0;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var params = new URLSearchParams(new FormData(form));
      params.set("partial", "1");
      var mine = ++seq;
      fetch(form.action + "?" + params.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html !== null && mine === seq) {
            target.innerHTML = html;
            params.delete("partial");
            history.replaceState(null, "", form.action + "?" + params.toString());
          }
        })
        .catch(function () { /* keep the current table; the form still submits normally */ });
    }, 250);
  });
})();
