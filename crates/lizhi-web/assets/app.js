// Lizhi — progressive enhancement only; every page works without this file.
(function () {
  "use strict";
  // Access actions on a case page: reload the table every 3 s while some still wait for a worker.
  function pollAccess() {
    var table = document.querySelector("[data-live-access]");
    if (!table || !window.fetch) { return; }
    setTimeout(function () {
      fetch(location.pathname.replace(/\/$/, "") + "/access", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html === null) { return; }
          var holder = document.createElement("div");
          holder.innerHTML = html;
          var fresh = holder.querySelector("#access-table");
          if (fresh) { table.replaceWith(fresh); pollAccess(); }
        })
        .catch(function () { /* the page still shows the state it was loaded with */ });
    }, 3000);
  }
  pollAccess();
})();
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
