/* StreetTwin working pages (dispatch, crew): live ticket events, countdowns, the crew's
 * offline action queue and the new-dispatch beep.
 *
 * - /ws/live: a {"type":"event","event":{"type":"ticket",...}} frame, a resync, the socket coming
 *   back and a finished crew sync bump the page's dcc.Store "st-live-bump" (through the watcher
 *   of ticket_feed.py), so its server callbacks re-read the ticket store at once; pages also
 *   poll, so a dead socket only slows them down.
 * - Countdowns: every element with data-deadline (UTC epoch s) shows the time left, each second.
 * - Crew queue: each tap is stored in localStorage as {key, ticket_id, action, note, photo}
 *   with a random idempotency key and sent, oldest first, to POST /api/crew/sync whenever the
 *   browser is online; items leave the queue only when the server has answered for their key.
 */
(function () {
  "use strict";

  var NEXT = { accept: "arrive", arrive: "resolve" };
  var P = { socket: null, retry: 1000, flushing: false, audio: null, lastRefs: null };
  window.streettwinPages = P;

  // -- helpers -----------------------------------------------------------------------------
  function cookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) return decodeURIComponent(parts[i].slice(eq + 1));
    }
    return "";
  }
  function csrf() { return cookie("__Host-st_csrf") || cookie("st_csrf"); }
  function randomKey() {
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b); // works on plain http too (randomUUID does not)
    return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }
  // news for the page: counted here, picked up by the page's clientside watcher (ticket_feed.py),
  // which writes the page's dcc.Store "st-live-bump" (a Store renders no element to target)
  function bump() { P.bumps = (P.bumps || 0) + 1; }
  function crewRoot() { return document.getElementById("st-crew"); }
  function lang() {
    var root = crewRoot() || document.querySelector(".st-wp");
    return root && root.getAttribute("lang") === "en" ? "en" : "zh";
  }

  // -- beep (WebAudio, no file) --------------------------------------------------------------
  function beep() {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      P.audio = P.audio || new Ctx();
      var ctx = P.audio, t = ctx.currentTime;
      [0, 0.25].forEach(function (dt) {
        var osc = ctx.createOscillator(), gain = ctx.createGain();
        osc.type = "square";
        osc.frequency.value = 880;
        gain.gain.setValueAtTime(0.2, t + dt);
        gain.gain.exponentialRampToValueAtTime(0.001, t + dt + 0.2);
        osc.connect(gain).connect(ctx.destination);
        osc.start(t + dt);
        osc.stop(t + dt + 0.2);
      });
      P.beeps = (P.beeps || 0) + 1;
    } catch (e) { /* no audio device: the banner still shows */ }
  }
  function announce() {
    beep();
    var el = document.getElementById("st-new");
    if (el) {
      el.hidden = false;
      setTimeout(function () { el.hidden = true; }, 8000);
    }
  }

  // -- live socket -----------------------------------------------------------------------------
  function connect() {
    if (!document.querySelector(".st-wp") || P.socket) return;
    var proto = location.protocol === "https:" ? "wss:" : "ws:";
    var ws;
    try { ws = new WebSocket(proto + "//" + location.host + "/ws/live"); } catch (e) { return; }
    P.socket = ws;
    ws.onopen = function () {
      if (P.status === "down") bump(); // events may have been missed while away
      P.retry = 1000;
      P.status = "live";
    };
    ws.onmessage = function (m) {
      if (typeof m.data !== "string") return;
      var msg;
      try { msg = JSON.parse(m.data); } catch (e) { return; }
      if (msg.type === "resync") { bump(); return; }
      if (msg.type !== "event" || !msg.event || msg.event.type !== "ticket") return;
      var root = crewRoot();
      if (root && msg.event.crew_id && msg.event.crew_id === root.getAttribute("data-crew") &&
          (msg.event.action === "dispatch" || msg.event.action === "reassign")) {
        announce();
      }
      bump();
    };
    ws.onclose = function () {
      P.socket = null;
      P.status = "down";
      setTimeout(connect, P.retry);
      P.retry = Math.min(P.retry * 2, 15000);
    };
  }

  // -- countdowns ---------------------------------------------------------------------------------
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function countdown(seconds) {
    var s = Math.floor(Math.abs(seconds)), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    var text = (h ? h + ":" + pad(m) : String(m)) + ":" + pad(s % 60);
    return seconds < 0 ? (lang() === "en" ? "overdue " : "已超时 ") + text : text;
  }
  function ensurePhotoInputs() {
    var slots = document.querySelectorAll(".st-photo-slot:empty");
    for (var i = 0; i < slots.length; i++) {
      var input = document.createElement("input"), name = slots[i].getAttribute("data-name");
      input.type = "file";
      input.accept = slots[i].getAttribute("data-accept") || "image/*";
      if (name) {
        input.name = name;  // posts with its native form (the residents' report)
      } else {
        input.setAttribute("capture", "environment");  // a crew's card: straight to the camera
      }
      input.className = "st-photo";
      slots[i].appendChild(input);
    }
  }
  function tick() {
    ensurePhotoInputs();
    var now = Date.now() / 1000;
    var els = document.querySelectorAll("[data-deadline]");
    for (var i = 0; i < els.length; i++) {
      var left = parseFloat(els[i].getAttribute("data-deadline")) - now;
      els[i].textContent = countdown(left);
      els[i].classList.toggle("st-overdue", left < 0);
    }
  }

  // -- the crew's offline queue ---------------------------------------------------------------
  function queueKey() {
    var root = crewRoot();
    return "st-crew-queue:" + (root ? root.getAttribute("data-user") : "");
  }
  function readQueue() {
    try { return JSON.parse(localStorage.getItem(queueKey()) || "[]"); } catch (e) { return []; }
  }
  function writeQueue(q) { localStorage.setItem(queueKey(), JSON.stringify(q)); showQueue(); }
  function showQueue() {
    var q = readQueue();
    var el = document.getElementById("st-queue-count");
    if (el) el.textContent = q.length ? q.length + (lang() === "en" ? " queued" : " 条待发送") : "";
    var net = document.getElementById("st-net");
    var note = document.getElementById("st-offline-note");
    if (net) {
      net.textContent = navigator.onLine ? (lang() === "en" ? "Online" : "在线") : (lang() === "en" ? "Offline" : "离线");
      net.className = "st-net " + (navigator.onLine ? "st-online" : "st-offline-badge");
    }
    if (note) note.hidden = navigator.onLine && !q.length;
    // show queued steps on their cards right away
    q.forEach(function (item) {
      var card = document.querySelector('.st-tcard[data-ref="' + item.ticket_id + '"]');
      if (card) card.classList.add("st-queued");
    });
  }
  P.enqueue = function (ticketRef, action, note, photo) {
    var q = readQueue();
    q.push({ key: randomKey(), ticket_id: ticketRef, action: action, note: note || "", photo: photo || "", at: Date.now() });
    writeQueue(q);
    P.flush();
  };
  P.flush = function () {
    if (P.flushing || !navigator.onLine || !crewRoot()) return;
    var q = readQueue();
    if (!q.length) return;
    P.flushing = true;
    fetch("/api/crew/sync", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify({ actions: q }),
    }).then(function (r) {
      if (!r.ok) throw new Error("sync " + r.status);
      return r.json();
    }).then(function (body) {
      var done = {};
      (body.results || []).forEach(function (res) { done[res.key] = res; });
      P.lastSync = body.results;
      // only what the server answered for leaves; anything tapped meanwhile stays
      writeQueue(readQueue().filter(function (item) { return !done[item.key]; }));
      bump();
    }).catch(function () { /* offline or server down: keep everything, try again later */ })
      .then(function () { P.flushing = false; });
  };
  P.readQueue = readQueue;

  function shrinkPhoto(file, done) {
    var reader = new FileReader();
    reader.onload = function () {
      var img = new Image();
      img.onload = function () {
        var scale = Math.min(1, 1024 / Math.max(img.width, img.height));
        var c = document.createElement("canvas");
        c.width = Math.max(1, Math.round(img.width * scale));
        c.height = Math.max(1, Math.round(img.height * scale));
        c.getContext("2d").drawImage(img, 0, 0, c.width, c.height);
        done(c.toDataURL("image/jpeg", 0.8));
      };
      img.onerror = function () { done(""); };
      img.src = reader.result;
    };
    reader.onerror = function () { done(""); };
    reader.readAsDataURL(file);
  }

  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest && ev.target.closest("button[data-action]");
    if (!btn || !crewRoot()) return;
    // a tap also unlocks audio on phones (autoplay rules)
    if (!P.audio && (window.AudioContext || window.webkitAudioContext)) {
      try { P.audio = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { /* none */ }
    }
    var ref = btn.getAttribute("data-ref"), action = btn.getAttribute("data-action");
    var card = btn.closest(".st-tcard");
    var noteEl = card && card.querySelector("textarea.st-note");
    var fileEl = card && card.querySelector("input.st-photo");
    var note = noteEl ? noteEl.value : "";
    btn.disabled = true;
    btn.hidden = true;
    if (card) {
      card.classList.add("st-queued");
      // show the next step at once: the server hears about this one when it can
      var next = NEXT[action];
      var nextBtn = next && card.querySelector('button[data-action="' + next + '"]');
      if (nextBtn) { nextBtn.hidden = false; nextBtn.disabled = false; }
      var box = card.querySelector(".st-resolve-box");
      if (box) box.hidden = next !== "resolve";
    }
    if (fileEl && fileEl.files && fileEl.files[0]) {
      shrinkPhoto(fileEl.files[0], function (url) { P.enqueue(ref, action, note, url); });
    } else {
      P.enqueue(ref, action, note, "");
    }
  });

  // -- new tickets on the crew page (polling path): beep when a ref appears ---------------------
  function crewTickets(refs) {
    refs = refs || [];
    if (P.lastRefs !== null && refs.some(function (r) { return P.lastRefs.indexOf(r) < 0; })) {
      announce();
    }
    P.lastRefs = refs;
    setTimeout(showQueue, 0);
    return String(refs.length);
  }

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.streettwinPages = Object.assign(window.dash_clientside.streettwinPages || {}, {
    crewTickets: crewTickets,
  });

  window.addEventListener("online", function () { showQueue(); P.flush(); });
  window.addEventListener("offline", showQueue);
  setInterval(function () { tick(); connect(); }, 1000);
  setInterval(function () { P.flush(); }, 3000);
})();
