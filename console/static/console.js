/* LessonQC console: click-to-seek and keyboard shortcuts. No framework, nothing loaded from elsewhere. */
(function () {
  "use strict";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }

  var player = $("#player");

  function seek(seconds) {
    if (!player || isNaN(seconds)) { return; }
    var go = function () { player.currentTime = Math.max(0, seconds); };
    if (player.readyState >= 1) { go(); } else { player.addEventListener("loadedmetadata", go, { once: true }); player.load(); }
  }

  /* ---- lesson page: findings ---- */
  var findings = $all(".finding");
  var current = -1;

  function select(i, andSeek) {
    if (!findings.length) { return; }
    current = Math.max(0, Math.min(findings.length - 1, i));
    findings.forEach(function (f, n) { f.classList.toggle("selected", n === current); });
    var f = findings[current];
    f.scrollIntoView({ block: "nearest" });
    $all(".marker").forEach(function (m) { m.classList.toggle("selected", m.dataset.seq === f.dataset.seq); });
    if (andSeek && f.dataset.start !== undefined) { seek(parseFloat(f.dataset.start)); }
  }

  findings.forEach(function (f, i) {
    f.addEventListener("click", function (ev) {
      if (ev.target.closest("form")) { return; }
      select(i, true);
    });
  });

  $all(".ts").forEach(function (a) {
    a.addEventListener("click", function (ev) { ev.preventDefault(); seek(parseFloat(a.dataset.start)); });
  });

  /* timeline markers: placed from data attributes (no inline styles under the page's CSP) */
  var timeline = $("#timeline");
  if (timeline) {
    var duration = parseFloat(timeline.dataset.duration) || 0;
    $all(".marker", timeline).forEach(function (m) {
      var start = parseFloat(m.dataset.start), end = parseFloat(m.dataset.end);
      if (duration > 0) {
        m.style.left = (100 * start / duration) + "%";
        m.style.width = Math.max(0.6, 100 * (end - start) / duration) + "%";
      }
      m.addEventListener("click", function () {
        var i = findings.findIndex(function (f) { return f.dataset.seq === m.dataset.seq; });
        if (i >= 0) { select(i, true); } else { seek(start); }
      });
    });
  }

  if (findings.length && location.hash.indexOf("#finding-") === 0) {
    var target = findings.findIndex(function (f) { return "#" + f.id === location.hash; });
    if (target >= 0) { select(target, false); }
  }

  /* ---- decision form: a reason is required to return or reject ---- */
  var decision = $("#decision-form");
  function choose(action) {
    if (!decision) { return; }
    var radio = $("input[name=action][value=" + action + "]", decision);
    if (radio) { radio.checked = true; radio.dispatchEvent(new Event("change", { bubbles: true })); }
    $("#reason").focus();
  }
  if (decision) {
    decision.addEventListener("change", function () {
      var picked = $("input[name=action]:checked", decision);
      $("#reason").required = !!picked && picked.value !== "pass";
    });
  }

  function submitFinding(status) {
    if (current < 0) { select(0, true); return; }   /* first key press selects, the next one acts */
    var form = findings[current] && $("form", findings[current]);
    var button = form && $("button[value=" + status + "]", form);
    if (button) { button.click(); }
  }

  /* ---- queue page: rows ---- */
  var rows = $all(".lesson-row");
  var row = -1;
  function selectRow(i) {
    if (!rows.length) { return; }
    row = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach(function (r, n) { r.classList.toggle("selected", n === row); });
    rows[row].scrollIntoView({ block: "nearest" });
  }

  /* ---- keyboard ---- */
  document.addEventListener("keydown", function (ev) {
    if (typing(ev.target)) {
      if (ev.key === "Escape") { ev.target.blur(); }
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey) && ev.target.form) { ev.target.form.requestSubmit(); }
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var handled = true;
    if (document.body.classList.contains("lesson-page")) {
      switch (ev.key) {
        case "j": select(current + 1, true); break;
        case "k": select(current - 1, true); break;
        case "c": submitFinding("confirmed"); break;
        case "d": submitFinding("dismissed"); break;
        case "p": choose("pass"); break;
        case "r": choose("return"); break;
        case "x": choose("reject"); break;
        case "n": var next = $("#next-lesson"); if (next) { location.href = next.href; } break;
        case " ": if (player) { if (player.paused) { player.play(); } else { player.pause(); } } break;
        default: handled = false;
      }
    } else if (rows.length) {
      switch (ev.key) {
        case "j": selectRow(row + 1); break;
        case "k": selectRow(row - 1); break;
        case "Enter": case "o": if (row >= 0) { location.href = rows[row].dataset.href; } break;
        case "/": var q = $("input[name=q]"); if (q) { q.focus(); } break;
        default: handled = false;
      }
    } else { handled = false; }
    if (handled) { ev.preventDefault(); }
  });
})();
