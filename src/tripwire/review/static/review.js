// The review page's only script: signing in from the link's fragment, and keyboard shortcuts.
// It reads nothing a model or a data set wrote; it only sets the form's own inputs.
(function () {
  "use strict";
  var login = document.getElementById("login-form");
  if (login) {
    // #token=... is never sent to a server (nor kept in its logs); post it once, then forget it
    if (location.hash.indexOf("#token=") === 0) {
      document.getElementById("token").value = decodeURIComponent(location.hash.slice(7));
      history.replaceState(null, "", location.pathname);
      login.submit();
    }
    return;
  }
  var form = document.getElementById("answer");
  if (!form) return;
  var kind = form.getAttribute("data-kind");
  var QUESTIONS = ["correctness", "readability", "idiomatic"];
  var CHOICES = ["A", "tie", "B"];

  function press(id) {
    var el = document.getElementById(id);
    if (el) el.click();
  }
  function typing(target) {
    return target.tagName === "TEXTAREA" || (target.tagName === "INPUT" && target.type !== "radio");
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (typing(e.target)) {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    if (e.key === "ArrowLeft") press("prev");
    else if (e.key === "ArrowRight") press("next");
    else if (e.key === "n") document.getElementById("note").focus();
    else if (kind === "data") {
      var reason = document.getElementById("reason");
      if (e.key === "k") press("keep");
      else if (e.key === "d") {
        if (reason.value) press("drop");
        else reason.focus();
      } else if (/^[0-9]$/.test(e.key)) {
        var i = e.key === "0" ? 10 : Number(e.key);
        if (i < reason.options.length) reason.selectedIndex = i;
      } else return;
    } else {
      if (/^[1-9]$/.test(e.key)) {
        var k = Number(e.key) - 1;
        var box = document.getElementById(QUESTIONS[Math.floor(k / 3)] + "-" + CHOICES[k % 3]);
        if (box) box.checked = true;
      } else if (e.key === "Enter") press("save");
      else return;
    }
    e.preventDefault();
  });
})();
