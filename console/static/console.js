/* LessonQC console: reviews and decisions without page loads, the timeline, keyboard shortcuts.
   No framework, nothing loaded from elsewhere. Every form also works without this script. */
(function () {
  "use strict";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }
  function clock(seconds) {
    var t = Math.max(0, Math.floor(seconds)), h = Math.floor(t / 3600), m = Math.floor(t % 3600 / 60), s = t % 60;
    var mm = (m < 10 ? "0" : "") + m, ss = (s < 10 ? "0" : "") + s;
    return h ? h + ":" + mm + ":" + ss : mm + ":" + ss;
  }

  var player = $("#player");

  function seek(seconds) {
    if (!player || isNaN(seconds)) { return; }
    var go = function () { player.currentTime = Math.max(0, seconds); };
    if (player.readyState >= 1) { go(); } else { player.addEventListener("loadedmetadata", go, { once: true }); player.load(); }
  }

  function toggle() {
    if (!player) { return; }
    if (player.paused) { player.play(); } else { player.pause(); }
  }

  /* ---- messages ---- */
  var flash = $("#flash");
  function say(text, isError, link) {
    if (!flash) { return; }
    flash.textContent = text;
    if (link) {
      var a = document.createElement("a");
      a.href = link; a.target = "_blank"; a.rel = "noopener"; a.textContent = "在新窗口重新登录";
      flash.appendChild(document.createTextNode(" ")); flash.appendChild(a);
    }
    flash.classList.toggle("error", !!isError);
    flash.classList.toggle("empty-flash", !text);
  }

  /* ---- lesson page: findings ---- */
  var current = -1;
  function cards() { return $all(".finding"); }

  function select(i, andSeek) {
    var all = cards();
    if (!all.length) { return; }
    current = Math.max(0, Math.min(all.length - 1, i));
    all.forEach(function (f, n) { f.classList.toggle("selected", n === current); });
    var f = all[current];
    var group = f.closest("details");
    if (group) { group.open = true; }
    f.scrollIntoView({ block: "nearest" });
    $all(".marker").forEach(function (m) { m.classList.toggle("selected", (m.dataset.seqs || "").split(",").indexOf(f.dataset.seq) >= 0); });
    if (andSeek && f.dataset.start !== undefined) { seek(parseFloat(f.dataset.start)); }
  }

  function selectSeq(seq, andSeek) {
    var i = cards().findIndex(function (f) { return f.dataset.seq === String(seq); });
    if (i >= 0) { select(i, andSeek); }
  }

  /* the next card without a review at this level, after the one just reviewed (no seek: the player keeps going) */
  function advance(fromSeq) {
    var all = cards(), from = all.findIndex(function (f) { return f.dataset.seq === String(fromSeq); });
    for (var n = from + 1; n < all.length; n++) {
      if (!/reviewed-/.test(all[n].className)) { select(n, false); return; }
    }
    if (from >= 0) { select(from, false); }
  }

  document.addEventListener("click", function (ev) {
    var t = ev.target;
    var link = t.closest(".thumb-link");
    if (link && lightbox) { ev.preventDefault(); enlarge(link.href, $("img", link).alt); return; }
    if (t.closest(".play-pair")) { playPair(t.closest(".match")); return; }
    if (t.closest(".ts")) { ev.preventDefault(); seek(parseFloat(t.closest(".ts").dataset.start)); return; }
    if (t.closest("form, summary, a")) { return; }
    var card = t.closest(".finding");
    if (card) { selectSeq(card.dataset.seq, true); }
  });

  /* ---- actions by fetch: the server answers JSON {message, parts: {id: html}} or {error} ---- */
  function replaceParts(parts) {
    Object.keys(parts || {}).forEach(function (id) {
      var old = document.getElementById(id);
      if (!old) { return; }
      var box = document.createElement("div");
      box.innerHTML = parts[id];
      var fresh = box.firstElementChild;
      if (fresh && old.tagName === "DETAILS" && fresh.tagName === "DETAILS") { fresh.open = old.open; }
      if (fresh) { old.replaceWith(fresh); }
    });
    placeMarkers();
  }

  function send(form, submitter, retried) {
    var data = new URLSearchParams(new FormData(form));
    if (submitter && submitter.name) { data.set(submitter.name, submitter.value); }
    form.classList.add("busy");
    return fetch(form.getAttribute("action"), {   /* not form.action: the decision form has an input named action */
      method: "POST", body: data, credentials: "same-origin",
      headers: { "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded" }
    }).then(function (response) {
      return response.json().then(function (answer) { return { status: response.status, answer: answer }; });
    }).then(function (got) {
      form.classList.remove("busy");
      var a = got.answer;
      if (a.csrf && !retried) {           /* logged in again elsewhere: take the new token, try once more */
        $all("input[name=csrf_token]").forEach(function (i) { i.value = a.csrf; });
        return send(form, submitter, true);
      }
      if (got.status >= 400) { say(a.error || "操作未完成。", true, a.login); return null; }
      replaceParts(a.parts);
      say(a.message || "", false);
      return a;
    }).catch(function () {
      form.classList.remove("busy");
      say("网络错误，操作未完成；已填写的内容仍在页面上，请稍后重试。", true);
      return null;
    });
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target, kind = form.dataset.action;
    if (!kind || !window.fetch) { return; }
    ev.preventDefault();
    var submitter = ev.submitter;
    if (kind === "finding" && !(submitter && submitter.name === "status")) {
      say("请点“确认”或“排除”（快捷键 c / d）。", true);
      return;
    }
    var seq = form.closest(".finding") && form.closest(".finding").dataset.seq;
    send(form, submitter).then(function (answer) {
      if (answer && kind === "finding") { advance(seq); }
    });
  });

  /* ---- decision form: a reason is required to return or reject ---- */
  function choose(action) {
    var decision = $("#decision-form");
    if (!decision) { return; }
    var radio = $("input[name=action][value=" + action + "]", decision);
    if (radio) { radio.checked = true; radio.dispatchEvent(new Event("change", { bubbles: true })); }
    $("#decision-panel").scrollIntoView({ block: "nearest" });
    $("#reason").focus();
  }
  document.addEventListener("change", function (ev) {
    var form = ev.target.closest && ev.target.closest("#decision-form");
    if (!form) { return; }
    var picked = $("input[name=action]:checked", form);
    $("#reason").required = !!picked && picked.value !== "pass";
  });

  function submitFinding(status) {
    var all = cards();
    if (current < 0) { select(0, true); return; }   /* first key press selects, the next one acts */
    var form = all[current] && $("form", all[current]);
    var button = form && $("button[value=" + status + "]", form);
    if (button) { button.click(); }
  }

  /* ---- timeline: markers (whole-length overlaps merged), playhead, scale; transcript follows ---- */
  var timeline = $("#timeline");
  var duration = timeline ? parseFloat(timeline.dataset.duration) || 0 : 0;
  var LONG = 0.5;   /* a marker covering half the lesson or more is drawn as a band under the short ones */

  function placeMarkers() {
    if (!timeline || duration <= 0) { return; }
    var longs = [];
    $all(".marker", timeline).forEach(function (m) {
      var start = parseFloat(m.dataset.start), end = parseFloat(m.dataset.end);
      m.dataset.seqs = m.dataset.seqs || m.dataset.seq;
      m.style.left = (100 * start / duration) + "%";
      m.style.width = Math.max(0.6, 100 * (end - start) / duration) + "%";
      if ((end - start) / duration >= LONG) { longs.push(m); m.classList.add("long"); }
    });
    /* one band per severity for overlapping long markers: clicking it selects the first, its title lists all */
    var bands = {};
    longs.forEach(function (m) {
      var key = m.className.match(/sev-\w+/)[0], band = bands[key];
      if (!band) { bands[key] = m; return; }
      var a0 = parseFloat(band.dataset.start), a1 = parseFloat(band.dataset.end);
      var b0 = parseFloat(m.dataset.start), b1 = parseFloat(m.dataset.end);
      if (b0 > a1 || b1 < a0) { return; }
      band.dataset.start = Math.min(a0, b0); band.dataset.end = Math.max(a1, b1);
      band.dataset.seqs += "," + m.dataset.seqs;
      var n = band.dataset.seqs.split(",").length;
      band.title = band.getAttribute("aria-label").replace(/（共.*$/, "") + "（共 " + n + " 条重叠）";
      band.setAttribute("aria-label", band.title);
      band.style.left = (100 * band.dataset.start / duration) + "%";
      band.style.width = (100 * (band.dataset.end - band.dataset.start) / duration) + "%";
      m.remove();
    });
  }

  if (timeline) {
    placeMarkers();
    var scale = $("#scale");
    if (scale && duration > 0) {
      for (var k = 0; k <= 4; k++) {
        var tick = document.createElement("span");
        tick.textContent = clock(duration * k / 4);
        tick.style.left = (25 * k) + "%";
        scale.appendChild(tick);
      }
    }
    timeline.addEventListener("click", function (ev) {
      var m = ev.target.closest(".marker");
      if (m) { selectSeq(m.dataset.seqs.split(",")[0], false); seek(parseFloat(m.dataset.start)); return; }
      var box = timeline.getBoundingClientRect();
      if (duration > 0) { seek(duration * (ev.clientX - box.left) / box.width); }
    });
  }

  var lines = $all("#transcript li");
  var playhead = $("#playhead");
  var spoken = -1;
  function follow() {
    var t = player.currentTime;
    if (playhead && duration > 0) { playhead.style.left = Math.min(100, 100 * t / duration) + "%"; }
    var at = -1;
    lines.forEach(function (li, n) { if (parseFloat(li.dataset.start) <= t) { at = n; } });
    if (at === spoken) { return; }
    if (spoken >= 0) { lines[spoken].classList.remove("current"); }
    spoken = at;
    if (at >= 0) {
      var li = lines[at], list = li.parentNode;
      li.classList.add("current");
      if (li.offsetTop < list.scrollTop || li.offsetTop + li.offsetHeight > list.scrollTop + list.clientHeight) {
        list.scrollTop = li.offsetTop - 8;   /* the list is the offset parent (position: relative) */
      }
    }
  }
  if (player) { player.addEventListener("timeupdate", follow); player.addEventListener("seeked", follow); }

  /* ---- matches: two players, each on its matched range (media fragment #t=start,end), played together;
     the other lesson's player follows this lesson's (re-aligned when they drift apart) ---- */
  var DRIFT = 0.3;
  function rangeOf(v) { return { start: parseFloat(v.dataset.start), end: parseFloat(v.dataset.end) }; }
  function playFrom(v, at) {
    var go = function () { v.currentTime = at; v.play(); };
    if (v.readyState >= 1) { go(); } else { v.addEventListener("loadedmetadata", go, { once: true }); v.load(); }
  }
  function playPair(match) {
    $all(".match-player", match).forEach(function (v) { playFrom(v, rangeOf(v).start); });
  }
  $all(".pair").forEach(function (pair) {
    var players = $all(".match-player", pair), lead = players[0], follower = players[1];
    players.forEach(function (v) {
      v.addEventListener("timeupdate", function () { if (v.currentTime >= rangeOf(v).end) { v.pause(); } });
    });
    if (!lead || !follower) { return; }
    lead.addEventListener("timeupdate", function () {
      if (lead.paused || follower.paused) { return; }
      var want = rangeOf(follower).start + (lead.currentTime - rangeOf(lead).start);
      if (Math.abs(follower.currentTime - want) > DRIFT && want < rangeOf(follower).end) { follower.currentTime = want; }
    });
  });

  /* ---- thumbnails open large ---- */
  var lightbox = $("#lightbox");
  function enlarge(src, alt) {
    var img = $("#lightbox-img");
    img.src = src; img.alt = alt || "";
    if (lightbox.showModal) { lightbox.showModal(); } else { window.open(src, "_blank"); }
  }
  if (lightbox) {
    lightbox.addEventListener("click", function () { lightbox.close(); });
  }

  if (cards().length && location.hash.indexOf("#finding-") === 0) {
    selectSeq(location.hash.slice("#finding-".length), false);
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

  /* ---- keyboard (capture: Space on the focused player toggles once, not twice) ---- */
  document.addEventListener("keydown", function (ev) {
    if (typing(ev.target)) {
      if (ev.key === "Escape") { ev.target.blur(); }
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey) && ev.target.form) {
        ev.preventDefault();
        if (ev.target.form.dataset.action === "finding") { say("请点“确认”或“排除”（快捷键 c / d）。", true); }
        else { ev.target.form.requestSubmit($("button[type=submit]", ev.target.form)); }
      }
      return;
    }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var lesson = document.body.classList.contains("lesson-page");
    if (ev.key === " " && ev.target.classList && ev.target.classList.contains("match-player")) { return; }   /* its own */
    if (lesson && ev.key === " " && ev.target.closest && ev.target.closest("button, a, summary") && ev.target !== player) {
      if (!ev.target.closest(".seek, .marker")) { return; }   /* Space presses a focused button, except seek buttons */
    }
    var handled = true;
    if (lesson) {
      switch (ev.key) {
        case "j": select(current + 1, true); break;
        case "k": select(current - 1, true); break;
        case "c": submitFinding("confirmed"); break;
        case "d": submitFinding("dismissed"); break;
        case "p": choose("pass"); break;
        case "r": choose("return"); break;
        case "x": choose("reject"); break;
        case "n": var next = $("#next-lesson"); if (next) { location.href = next.href; } break;
        case " ": toggle(); break;
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
    if (handled) { ev.preventDefault(); ev.stopPropagation(); }
  }, true);
})();
