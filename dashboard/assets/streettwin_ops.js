/* StreetTwin wall screen (/ops): clock, connection and freshness, KPI tiles, warnings ticker,
 * alert banner with a generated WebAudio alarm (no audio file), fly-to, language and large-text
 * switches, and the replay slider. Live data comes from streettwin_live.js.
 *
 * Test hooks (read-only): window.streettwinOps.{alerts, beeps, lastFlyTo, acknowledged, kpi,
 * kpiPolls}; streettwinOps.pollStatus() fetches the server's counts now.
 */
(function () {
  "use strict";

  var MAP_ID = "ops-map";
  // dashboard.api_layers.deck_url(WALL_STYLE): fetched as soon as this script runs on /ops, in
  // parallel with Dash building the page (a test checks the two stay equal)
  var DECK_URL = "/api/layers/deck.json?style=dark";
  var PATH = "/ops";
  var BEEP_EVERY_MS = 2500; // an unacknowledged orange/red alert repeats its tone
  var KPI_POLL_MS = 10000; // ticket and exposure counts (/api/live/status)
  var ALERT_LEVELS = { orange: true, red: true };
  var LEVEL_ORDER = ["red", "orange", "yellow", "blue"];

  var O = {
    started: false, cfg: null, muted: false, alerts: 0, beeps: 0, lastFlyTo: null,
    acknowledged: {}, alerting: null, beepTimer: null, audio: null, replay: null,
  };

  function $(id) { return document.getElementById(id); }
  function lang() { return O.cfg.lang; }
  function tr(key, args) {
    var text = (O.cfg.text[lang()] || {})[key] || (O.cfg.text.zh || {})[key] || key;
    if (args) Object.keys(args).forEach(function (k) { text = text.replace("{" + k + "}", args[k]); });
    return text;
  }
  function L() { return window.streettwinLive; }
  function esc(v) {
    return String(v === undefined || v === null ? "" : v).replace(/&/g, "&amp;")
      .replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  // --- language ---------------------------------------------------------------------------
  function applyLanguage() {
    var root = $("ops-root");
    root.setAttribute("lang", lang() === "zh" ? "zh-CN" : "en");
    document.documentElement.setAttribute("lang", lang() === "zh" ? "zh-CN" : "en");
    root.querySelectorAll("[data-i18n]").forEach(function (el) { el.textContent = tr(el.dataset.i18n); });
    root.querySelectorAll("[data-level]").forEach(function (el) {
      el.textContent = O.cfg.levels[el.dataset.level][lang()];
    });
    root.querySelectorAll("[data-state]").forEach(function (el) {
      var st = O.cfg.states.filter(function (s) { return s.name === el.dataset.state; })[0];
      if (st) el.textContent = st[lang()];
    });
    $("ops-district").textContent = O.cfg.district[lang()] || "";
    $("ops-lang-btn").textContent = tr("lang_switch");
    $("ops-mute-btn").textContent = tr(O.muted ? "unmute" : "mute");
    $("ops-alert-mute-btn").textContent = tr(O.muted ? "unmute" : "mute");
    $("ops-slider-label").textContent = tr("slider_label", { n: O.cfg.replay_minutes });
    window.streettwinLang = lang();
    updateStatus();
    updateKpis();
    updateTicker();
    if (O.alerting) showAlert(O.alerting, false);
  }

  // --- clock, connection, freshness -------------------------------------------------------
  function updateStatus() {
    var live = L();
    $("ops-clock").textContent = live.localTime(Date.now() / 1000, true);
    var status = live.state.status;
    var conn = $("ops-conn"), text = $("ops-conn-text");
    var key = { live: "conn_live", lost: "conn_lost", offline: "conn_offline" }[status] || "conn_connecting";
    var stale = live.isStale();
    if (status === "live" && stale) key = "conn_lost";
    conn.className = "ops-conn ops-conn-" + (key === "conn_live" ? "live" : key === "conn_connecting" ? "connecting" : "lost");
    text.dataset.i18n = key;
    text.textContent = tr(key);
    var t0 = live.state.newestObs;
    var fresh = $("ops-fresh-value");
    if (isFinite(t0)) {
      var age = Math.max(0, Math.round(Date.now() / 1000 - t0));
      fresh.textContent = live.localTime(t0) + " · " + tr("seconds_ago", { n: age });
    } else {
      fresh.textContent = tr("fresh_none");
    }
    var banner = $("ops-stale-banner");
    var showStale = stale && status !== "idle" && !(status === "connecting" && !live.state.lastMessageAt);
    if (status === "offline") {
      banner.textContent = tr("offline_banner");
      banner.hidden = false;
    } else if (showStale) {
      var since = live.secondsSinceMessage();
      banner.textContent = tr("stale_banner", { n: isFinite(since) ? Math.round(since) : "—" });
      banner.hidden = false;
    } else {
      banner.hidden = true;
    }
    $("ops-root").classList.toggle("ops-is-stale", !banner.hidden);
  }

  // --- KPI tiles --------------------------------------------------------------------------
  function setText(id, value) { var el = $(id); if (el && el.textContent !== String(value)) el.textContent = value; }

  function updateKpis() {
    var live = L();
    var c = live.counts();
    var total = live.state.n;
    setText("ops-kpi-live-value", total ? String(c[0]) : "—");
    setText("ops-kpi-stale-value", total ? String(c[1] + c[2]) : "—");
    setText("ops-kpi-alarm-value", total ? String(c[3]) : "—");
    setText("ops-kpi-live-note", total ? "/ " + total : "");
    var byLevel = { blue: 0, yellow: 0, orange: 0, red: 0 };
    live.currentWarnings().forEach(function (w) { byLevel[w.level]++; });
    Object.keys(byLevel).forEach(function (lvl) {
      setText("ops-warn-" + lvl, String(byLevel[lvl]));
      var el = $("ops-warn-" + lvl);
      if (el) el.parentNode.classList.toggle("ops-level-active", byLevel[lvl] > 0);
    });
    // from /api/live/status (pollStatus); null: this twin has no event store or warning
    // service, and the tile says so instead of showing a fake zero
    var k = O.kpi || {};
    [["tickets", k.tickets_open], ["overdue", k.tickets_overdue], ["people", k.people_warned]]
      .forEach(function (pair) {
        var v = pair[1];
        var wired = typeof v === "number";
        setText("ops-kpi-" + pair[0] + "-value", wired ? v.toLocaleString("en-US") : "—");
        setText("ops-kpi-" + pair[0] + "-note", wired ? "" : tr("not_wired"));
        var tile = $("ops-kpi-" + pair[0]);
        if (tile) {
          tile.classList.toggle("ops-nw", !wired); // unwired tiles are small and dim
          tile.classList.toggle("ops-alarm", pair[0] === "overdue" && wired && v > 0);
        }
      });
  }

  // open and overdue tickets and people under warnings: counted by the server
  function pollStatus() {
    fetch("/api/live/status", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body || !body.kpi) return;
        O.kpi = body.kpi;
        O.kpiPolls = (O.kpiPolls || 0) + 1;
        updateKpis();
      })
      .catch(function () { /* the connection indicator already shows a lost server */ });
  }

  // --- ticker -----------------------------------------------------------------------------
  function hazardName(h) {
    var key = "hazard_" + h;
    var t = (O.cfg.text[lang()] || {})[key];
    return t || h || "";
  }

  // " · <area name>" (a street, community or grid, as the engine named it), else the grid code
  function areaLabel(w) {
    var name = w["area_name_" + lang()] || w.area_name_zh || w.area_name_en;
    if (name) return " · " + esc(name);
    return w.area_id ? " · " + esc(tr("grid")) + " " + esc(w.area_id) : "";
  }

  function updateTicker() {
    var warnings = L().currentWarnings();
    var el = $("ops-ticker-text");
    if (!warnings.length) {
      el.innerHTML = esc(tr("ticker_none"));
      $("ops-ticker").classList.remove("ops-ticker-scroll");
      return;
    }
    el.innerHTML = warnings.map(function (w) {
      var head = lang() === "zh" ? w.headline_zh || w.headline_en : w.headline_en || w.headline_zh;
      return "<span class='ops-tick ops-tick-" + esc(w.level) + "'><b class='ops-chip ops-chip-" + esc(w.level) +
        "'>" + esc(O.cfg.levels[w.level][lang()]) + "</b> " + esc(hazardName(w.hazard)) +
        areaLabel(w) + " · " + esc(head) +
        (w.issued ? " · " + esc(L().localTime(w.issued)) : "") + "</span>";
    }).join("");
    var track = $("ops-ticker");
    track.classList.toggle("ops-ticker-scroll", el.scrollWidth > track.clientWidth);
  }

  // --- alerts -----------------------------------------------------------------------------
  function tone(freq, at, dur) {
    var ctx = O.audio, osc = ctx.createOscillator(), gain = ctx.createGain();
    osc.type = "square";
    osc.frequency.setValueAtTime(freq, at);
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + dur);
    osc.connect(gain);
    gain.connect(ctx.destination);
    osc.start(at);
    osc.stop(at + dur + 0.02);
  }

  function beep(level) {
    if (O.muted) return;
    try {
      O.audio = O.audio || new (window.AudioContext || window.webkitAudioContext)();
      if (O.audio.state === "suspended") O.audio.resume();
      var t = O.audio.currentTime + 0.02;
      // red: three high-low pairs; orange: two high tones
      var pattern = level === "red" ? [988, 740, 988, 740, 988, 740] : [880, 880];
      pattern.forEach(function (f, k) { tone(f, t + k * 0.22, 0.18); });
      O.beeps++;
    } catch (e) { /* no audio device: the banner still shows */ }
  }

  function showAlert(w, fresh) {
    var banner = $("ops-alert");
    var head = lang() === "zh" ? w.headline_zh || w.headline_en : w.headline_en || w.headline_zh;
    $("ops-alert-text").innerHTML = "<b class='ops-chip ops-chip-" + esc(w.level) + "'>" +
      esc(O.cfg.levels[w.level][lang()]) + "</b> " + esc(tr("alert_prefix")) + " · " +
      esc(hazardName(w.hazard)) + areaLabel(w) +
      " · " + esc(head);
    banner.className = "ops-alert ops-alert-" + w.level;
    banner.hidden = false;
    banner.dataset.warning = w.id;
    banner.dataset.alertLevel = w.level; // not data-level: applyLanguage rewrites those
    O.alerting = w;
    if (!fresh) return;
    O.alerts++;
    if (isFinite(w.lon) && isFinite(w.lat)) {
      L().flyTo(MAP_ID, w.lon, w.lat);
      O.lastFlyTo = { id: w.id, lon: w.lon, lat: w.lat, at: Date.now() };
    }
    beep(w.level);
    window.clearInterval(O.beepTimer);
    O.beepTimer = window.setInterval(function () { if (O.alerting) beep(O.alerting.level); }, BEEP_EVERY_MS);
    $("ops-ack-btn").focus();
  }

  function acknowledge() {
    if (O.alerting) O.acknowledged[O.alerting.id + ":" + O.alerting.level] = Date.now();
    O.alerting = null;
    window.clearInterval(O.beepTimer);
    $("ops-alert").hidden = true;
  }

  function onEvent(msg) {
    var ev = msg.event;
    if (ev.type === "warning") {
      var key = ev.id + ":" + ev.level;
      var active = L().activeWarnings(L().state.warnings, Date.now() / 1000);
      var isActive = active.some(function (w) { return w.id === ev.id; });
      if (isActive && ALERT_LEVELS[ev.level] && !O.acknowledged[key]) {
        var worse = !O.alerting || LEVEL_ORDER.indexOf(ev.level) <= LEVEL_ORDER.indexOf(O.alerting.level);
        if (worse) showAlert(ev, true);
      }
      if (!isActive && O.alerting && O.alerting.id === ev.id) acknowledge();
    }
    updateKpis();
    updateTicker();
  }

  // --- replay -----------------------------------------------------------------------------
  function loadReplay() {
    if (O.replay && Date.now() - O.replay.loadedAt < 30000) return Promise.resolve(O.replay);
    var url = "/api/live/replay?minutes=" + O.cfg.replay_minutes + "&step=60";
    return fetch(url).then(function (r) { return r.json(); }).then(function (body) {
      body.loadedAt = Date.now();
      O.replay = body;
      return body;
    });
  }

  function replayTo(minutesBack) {
    var slider = $("ops-slider");
    if (minutesBack >= 0) {
      L().setReplay(null);
      $("ops-replay-badge").hidden = true;
      $("ops-root").classList.remove("ops-replaying");
      slider.setAttribute("aria-valuetext", "live");
      updateKpis(); updateTicker();
      return Promise.resolve(null);
    }
    return loadReplay().then(function (rp) {
      var target = rp.now + minutesBack * 60;
      var k = 0;
      while (k < rp.times.length - 1 && rp.times[k] < target) k++;
      var live = L(), S = live.state;
      var states = new Uint8Array(S.n).fill(1);
      var text = rp.states[k];
      var map = S.frameToPoint;
      for (var r = 0; r < text.length; r++) {
        var i = map ? map[r] : r;
        if (i >= 0 && i < S.n) states[i] = text.charCodeAt(r) - 48;
      }
      var warnings = {};
      rp.events.forEach(function (ev) {
        if (ev.type === "warning" && (ev.at || 0) <= rp.times[k]) warnings[ev.id] = ev;
      });
      live.setReplay({ states: states, time: rp.times[k], index: k, warnings: warnings });
      var badge = $("ops-replay-badge");
      badge.textContent = tr("replay_badge", { time: live.localTime(rp.times[k]) });
      badge.hidden = false;
      $("ops-root").classList.add("ops-replaying");
      slider.setAttribute("aria-valuetext", live.localTime(rp.times[k]));
      updateKpis(); updateTicker();
      return k;
    });
  }

  // --- wiring -----------------------------------------------------------------------------
  function init() {
    if (O.started) return;
    O.started = true;
    var live = L();
    live.on("values", function () { if (!O.kpiPending) { O.kpiPending = true; setTimeout(function () { O.kpiPending = false; updateKpis(); }, 250); } });
    live.on("event", function (ev) {
      onEvent(ev);
      // its people and tickets: one poll for a burst of warnings (a nowcast cycle sends many)
      if (ev && ev.type === "warning" && !O.pollPending) {
        O.pollPending = true;
        setTimeout(function () { O.pollPending = false; pollStatus(); }, 500);
      }
    });
    live.on("status", updateStatus);
    $("ops-lang-btn").addEventListener("click", function () {
      O.cfg.lang = lang() === "zh" ? "en" : "zh";
      applyLanguage();
    });
    $("ops-large-btn").addEventListener("click", function () {
      var on = $("ops-root").classList.toggle("ops-large");
      $("ops-large-btn").setAttribute("aria-pressed", on ? "true" : "false");
    });
    var toggleMute = function () {
      O.muted = !O.muted;
      $("ops-mute-btn").textContent = tr(O.muted ? "unmute" : "mute");
      $("ops-alert-mute-btn").textContent = tr(O.muted ? "unmute" : "mute");
      $("ops-mute-btn").setAttribute("aria-pressed", O.muted ? "true" : "false");
    };
    $("ops-mute-btn").addEventListener("click", toggleMute);
    $("ops-alert-mute-btn").addEventListener("click", toggleMute);
    $("ops-ack-btn").addEventListener("click", acknowledge);
    var slider = $("ops-slider");
    slider.addEventListener("input", function () { replayTo(Number(slider.value)); });
    $("ops-live-btn").addEventListener("click", function () { slider.value = 0; replayTo(0); });
    setInterval(updateStatus, 1000);
    setInterval(pollStatus, KPI_POLL_MS);
    pollStatus();
    applyLanguage();
  }

  function setMapStatus(status) {
    var dc = window.dash_clientside;
    if (dc && typeof dc.set_props === "function") dc.set_props("ops-map-status", { children: status });
  }

  function renderOps(cfg, containerId) {
    var nc = window.dash_clientside.no_update;
    if (!cfg) return nc;
    if (!O.cfg) O.cfg = JSON.parse(JSON.stringify(cfg));
    window.streettwinConfig = O.cfg;
    window.streettwinMap.loadDeck(cfg.deck_url || DECK_URL).then(function (payload) {
      var status = window.dash_clientside.streettwin.renderDeck(payload, O.cfg.lang, containerId);
      if (String(status).indexOf("ready") === 0) {
        init();
        window.streettwinMap.mark("kpi_shown");
      }
      setMapStatus(status);
    }).catch(function (e) {
      console.error("wall screen map: " + e);
      setMapStatus("error: " + e);
    });
    return "loading";
  }

  // the deck's geometry is the page's biggest download: start it before Dash renders
  if (window.location.pathname === PATH && window.streettwinMap) window.streettwinMap.loadDeck(DECK_URL);

  window.streettwinOps = O;
  O.replayTo = replayTo;
  O.pollStatus = pollStatus;
  O.acknowledge = acknowledge;
  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.streettwin = Object.assign(window.dash_clientside.streettwin || {}, {
    renderOps: renderOps,
  });
})();
