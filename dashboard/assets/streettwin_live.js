/* StreetTwin live layers: /ws/live frames recolour sensors and grids without re-sending geometry.
 *
 * The deck JSON carries the geometry once (layers "sensors", "sensor-grids", "warnings" built
 * by layers/sensors.py and layers/warnings.py). This module keeps every sensor's value,
 * quality and observation time in typed arrays (layer order), and on each frame clones those
 * layers with new accessors and a bumped `updateTriggers` version: deck.gl recomputes only the
 * colour attribute, so thousands of points stay fluid. Zoomed out (below
 * AGGREGATE_BELOW_ZOOM) the points hide and grids show the worst state inside.
 *
 * State rules mirror layers/sensors.py (sensor_states, worst_by_group); colours mirror
 * layers/style.py SENSOR_STATE_STYLE (tests check the two stay equal).
 *
 * Wire format: see dashboard/live.py (compact "bin1": JSON hello with ids, binary values
 * frames "STV1", JSON events and heartbeats).
 */
(function () {
  "use strict";

  // layers.style.SENSOR_STATE_STYLE, in code order ok, stale, rejected, alarm
  var STATE_RGB = [[0, 158, 115], [150, 150, 150], [204, 121, 167], [213, 94, 0]];
  var OK = 0, STALE = 1, REJECTED = 2, ALARM = 3;
  var AGGREGATE_BELOW_ZOOM = 15.5; // layers.style.AGGREGATE_BELOW_ZOOM
  var GRID_FILL_ALPHA = 120; // layers.sensors.GRID_FILL_ALPHA, when aggregated
  var GRID_FILL_ALPHA_ZOOMED = 45; // zoomed in: the points speak, grids only hint
  var AGE_UNKNOWN = 65535;
  var FLY_TO_ZOOM = 16.5; // close enough to see the buildings of a warned block
  var STALE_AFTER_S = 6; // no frame or heartbeat for this long: the screen is not current
  var WARNING_RGB = { blue: [30, 110, 220], yellow: [250, 210, 0], orange: [245, 130, 0], red: [215, 25, 32] };
  var WARNING_RADIUS = { blue: 14, yellow: 16, orange: 20, red: 24 };
  var LEVEL_RANK = { blue: 0, yellow: 1, orange: 2, red: 3 };

  var COLOURS = STATE_RGB.map(function (c) { return [c[0], c[1], c[2], 255]; });
  var NONE = [0, 0, 0, 0];

  var S = {
    n: 0, pointIndex: {}, frameToPoint: null,
    value: null, quality: null, observed: null, alarmAt: null, grid: null, states: null,
    gridIds: [], gridIndex: {}, worst: null,
    version: 0, lastMessageAt: 0, lastValuesAt: 0, newestObs: NaN, frames: 0, bytes: 0,
    status: "idle", replay: null, replayWarnings: null, warnings: {},
    entries: {}, ws: null, retry: 0, started: false, live: null, pending: false,
    lastPaint: null, firstPaintAt: null, paintedVersion: -1, buildingsDrawnAt: null,
  };
  var listeners = { values: [], event: [], status: [], pick: [] };

  function emit(kind, arg) {
    listeners[kind].forEach(function (fn) {
      try { fn(arg); } catch (e) { console.warn("streettwin live listener", e); }
    });
  }

  function setStatus(status) {
    if (S.status === status) return;
    S.status = status;
    emit("status", status);
  }

  // --- state ------------------------------------------------------------------------------
  function setupPoints(points) {
    if (S.n === points.length && S.value) return;
    var n = points.length;
    S.n = n;
    S.value = new Float32Array(n).fill(NaN);
    S.quality = new Uint8Array(n).fill(1); // STALE until a reading arrives
    S.observed = new Float64Array(n).fill(NaN);
    S.alarmAt = new Float32Array(n);
    S.grid = new Int32Array(n);
    S.states = new Uint8Array(n).fill(STALE);
    S.pointIndex = {};
    S.points = points;
    for (var i = 0; i < n; i++) {
      var p = points[i];
      S.pointIndex[p.id] = i;
      S.alarmAt[i] = p.a === null || p.a === undefined ? NaN : p.a;
      var g = S.gridIndex[p.g];
      if (g === undefined) {
        g = S.gridIds.length;
        S.gridIndex[p.g] = g;
        S.gridIds.push(p.g);
      }
      S.grid[i] = g;
    }
    S.worst = new Int8Array(S.gridIds.length).fill(STALE);
  }

  function stateOf(i) {
    var q = S.quality[i], s = OK;
    if (q === 1) s = STALE;
    else if (q === 2) s = REJECTED;
    if (S.value[i] >= S.alarmAt[i]) s = ALARM; // NaN compares false: no alarm
    return s;
  }

  function recomputeWorst(states) {
    var worst = S.worst;
    worst.fill(-1);
    for (var i = 0; i < S.n; i++) {
      var g = S.grid[i];
      if (states[i] > worst[g]) worst[g] = states[i];
    }
  }

  function counts(states) {
    var c = [0, 0, 0, 0];
    for (var i = 0; i < S.n; i++) c[states[i]]++;
    return c;
  }

  function applyBinary(buf) {
    var dv = new DataView(buf);
    if (dv.getUint8(0) !== 83 || dv.getUint8(3) !== 49) return; // "STV1"
    var n = dv.getUint32(4, true);
    var t0 = dv.getFloat64(8, true);
    var rows = new Uint32Array(buf, 16, n);
    var vals = new Float32Array(buf, 16 + 4 * n, n);
    var ages = new Uint16Array(buf, 16 + 8 * n, n);
    var qual = new Uint8Array(buf, 16 + 10 * n, n);
    var map = S.frameToPoint;
    for (var k = 0; k < n; k++) {
      var i = map ? map[rows[k]] : rows[k];
      if (i === undefined || i < 0 || i >= S.n) continue;
      S.value[i] = vals[k];
      S.quality[i] = qual[k];
      S.observed[i] = ages[k] === AGE_UNKNOWN ? NaN : t0 - ages[k] / 10;
      S.states[i] = stateOf(i);
    }
    if (isFinite(t0) && !(t0 <= S.newestObs)) S.newestObs = t0;
    S.version++;
    S.lastValuesAt = Date.now();
    S.frames++;
    recomputeWorst(S.states);
    schedule();
    emit("values", { n: n, t0: t0, version: S.version });
  }

  // --- websocket --------------------------------------------------------------------------
  function connect() {
    setStatus("connecting");
    var proto = window.location.protocol === "https:" ? "wss:" : "ws:";
    var ws = new WebSocket(proto + "//" + window.location.host + "/ws/live?format=bin");
    ws.binaryType = "arraybuffer";
    S.ws = ws;
    ws.onopen = function () { S.retry = 0; };
    ws.onmessage = function (ev) {
      S.bytes += typeof ev.data === "string" ? ev.data.length : ev.data.byteLength;
      if (typeof ev.data !== "string") {
        S.lastMessageAt = Date.now();
        applyBinary(ev.data);
        setStatus("live");
        return;
      }
      var msg = JSON.parse(ev.data);
      if (msg.type === "hello") {
        if (msg.ids) {
          S.frameToPoint = new Int32Array(msg.ids.length);
          for (var r = 0; r < msg.ids.length; r++) {
            var i = S.pointIndex[msg.ids[r]];
            S.frameToPoint[r] = i === undefined ? -1 : i;
          }
        }
        // not "live" yet: a hub that is shutting down still says hello, then hangs up
      } else if (msg.type === "heartbeat") {
        S.lastMessageAt = Date.now();
        setStatus("live");
      } else if (msg.type === "event") {
        S.lastMessageAt = Date.now();
        handleEvent(msg.event, true);
      } else if (msg.type === "resync") {
        ws.close(); // the reconnect's first frame is the whole state
        loadEvents();
      }
    };
    ws.onclose = function () {
      if (S.ws !== ws) return;
      S.ws = null;
      setStatus("lost");
      S.retry = Math.min(S.retry + 1, 5);
      window.setTimeout(connect, 1000 * Math.min(10, Math.pow(2, S.retry - 1)));
    };
  }

  function loadEvents() {
    return fetch("/api/live/events").then(function (r) { return r.json(); }).then(function (body) {
      (body.warnings || []).slice().reverse().forEach(function (w) { handleEvent(w, false); });
    }).catch(function () { /* the websocket delivers new events anyway */ });
  }

  function start() {
    if (S.started) return;
    S.started = true;
    fetch("/api/live/status").then(function (r) { return r.json(); }).then(function (body) {
      S.live = !!body.live;
      schedule();
      if (!S.live) { setStatus("offline"); return; }
      loadEvents().then(connect);
    }).catch(function () { setStatus("offline"); });
  }

  // --- warnings ---------------------------------------------------------------------------
  function isActive(w, now) {
    return w && w.status !== "cancelled" && LEVEL_RANK[w.level] !== undefined &&
      !(w.expires !== undefined && w.expires !== null && w.expires <= now);
  }

  function handleEvent(ev, fresh) {
    if (!ev) return;
    if (ev.type === "warning" && ev.id !== undefined) {
      S.warnings[ev.id] = ev;
      schedule();
    }
    emit("event", { event: ev, fresh: fresh });
  }

  function activeWarnings(source, now) {
    var out = [];
    Object.keys(source).forEach(function (id) {
      if (isActive(source[id], now)) out.push(source[id]);
    });
    out.sort(function (a, b) {
      return (LEVEL_RANK[b.level] - LEVEL_RANK[a.level]) ||
        ((b.issued || b.at || 0) - (a.issued || a.at || 0));
    });
    return out;
  }

  function currentWarnings() {
    return activeWarnings(S.replayWarnings || S.warnings, S.replay ? S.replay.time : Date.now() / 1000);
  }

  // --- layers -----------------------------------------------------------------------------
  function sensorColour(d, info) {
    var states = S.replay ? S.replay.states : S.states;
    var s = states[info.index];
    return COLOURS[s === undefined ? STALE : s];
  }

  function gridColourFor(rec) {
    var alpha = rec.aggregated ? GRID_FILL_ALPHA : GRID_FILL_ALPHA_ZOOMED;
    var palette = STATE_RGB.map(function (c) { return [c[0], c[1], c[2], alpha]; });
    return function (f) {
      var g = S.gridIndex[(f.properties || f).grid_id];
      var w = g === undefined ? -1 : S.worst[g];
      return w < 0 ? NONE : palette[w];
    };
  }

  function warningData() {
    return currentWarnings().filter(function (w) {
      return isFinite(w.lon) && isFinite(w.lat);
    }).map(function (w) {
      return { id: w.id, p: [w.lon, w.lat, 0], level: w.level,
        c: WARNING_RGB[w.level].concat([255]), r: WARNING_RADIUS[w.level], w: w };
    });
  }

  function schedule() {
    if (S.pending) return;
    S.pending = true;
    window.requestAnimationFrame(function () {
      S.pending = false;
      Object.keys(S.entries).forEach(function (cid) { relayer(S.entries[cid]); });
    });
  }

  function relayer(rec) {
    var deck = rec.entry.deck;
    if (!rec.entry.inner.isConnected) return;
    var v = S.version + (S.replay ? ":r" + S.replay.index : "") + (rec.aggregated ? ":a" : ":z");
    var warnings = warningData();
    var layers = (deck.props.layers || []).map(function (l) {
      if (!l) return l;
      if (l.id === "sensors" && rec.base.sensors) {
        // without a live twin (or before we know) there is nothing true to show per sensor
        return rec.base.sensors.clone({
          getFillColor: sensorColour, visible: S.live === true && !rec.aggregated,
          updateTriggers: { getFillColor: v },
        });
      }
      if (l.id === "sensor-grids" && rec.base.grids) {
        return rec.base.grids.clone({
          getFillColor: gridColourFor(rec), updateTriggers: { getFillColor: v },
          visible: S.live === true,
        });
      }
      if (l.id === "warnings" && rec.base.warnings) {
        return rec.base.warnings.clone({ data: warnings });
      }
      return l;
    });
    rec.layerVersion = S.version;
    deck.setProps({ layers: layers });
  }

  // --- tooltips, cards --------------------------------------------------------------------
  function config() { return window.streettwinConfig || null; }
  function lang() { return (config() && config().lang) || (window.streettwinLang || "zh"); }
  function tr(key, fallbackZh, fallbackEn) {
    var c = config();
    if (c && c.text && c.text[lang()] && c.text[lang()][key]) return c.text[lang()][key];
    return lang() === "zh" ? fallbackZh : fallbackEn;
  }

  var FALLBACK_STATES = [["正常", "Live"], ["数据过期", "Stale"], ["数据异常", "Rejected"], ["超限报警", "Alarm"]];
  function stateName(s) {
    var c = config();
    if (c && c.states && c.states[s]) return c.states[s][lang()];
    return FALLBACK_STATES[s][lang() === "zh" ? 0 : 1];
  }

  function escapeHtml(value) {
    return String(value === undefined || value === null ? "" : value)
      .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  function fieldOf(q) {
    var c = config();
    return c && c.fields ? c.fields[q] : null;
  }

  function formatValue(q, v) {
    if (v === null || v === undefined || !isFinite(v)) return "—";
    var f = fieldOf(q);
    if (!f) return Number(v).toPrecision(4).replace(/\.?0+$/, "");
    var shown = v * f.factor;
    var unit = f.unit === "人" && lang() === "en" ? "people" : f.unit;
    return (Math.abs(shown) >= 100 ? shown.toFixed(0) : Number(shown.toPrecision(3))) + (unit ? " " + unit : "");
  }

  function localTime(epochS, withDate) {
    if (!isFinite(epochS)) return "—";
    var iso = new Date(epochS * 1000 + 8 * 3600 * 1000).toISOString(); // +08:00, no DST
    return withDate ? iso.slice(0, 10) + " " + iso.slice(11, 19) + " +08:00" : iso.slice(11, 19);
  }

  function kindName(k) {
    var c = config();
    if (c && c.kinds && c.kinds[k]) return c.kinds[k][lang()];
    return k;
  }

  function getTooltip(rec, info) {
    if (!info || !info.picked || !info.layer) return null;
    var style = rec.tooltipStyle;
    if (info.layer.id === "sensors" && info.object) {
      var i = info.index, p = info.object;
      var states = S.replay ? S.replay.states : S.states;
      return { style: style, html: "<b>" + escapeHtml(kindName(p.k)) + "</b> " + escapeHtml(p.id) +
        "<br>" + escapeHtml(formatValue(p.q, S.value[i])) + " · " + escapeHtml(stateName(states[i])) };
    }
    if (info.layer.id === "sensor-grids" && info.object) {
      var props = info.object.properties || info.object;
      var g = S.gridIndex[props.grid_id];
      var w = g === undefined ? -1 : S.worst[g];
      var name = lang() === "zh" ? props.name_zh : props.name_en;
      return { style: style, html: "<b>" + escapeHtml(name || props.grid_id) + "</b><br>" +
        escapeHtml(w < 0 ? "—" : stateName(w)) };
    }
    if (info.layer.id === "warnings" && info.object && info.object.w) {
      var ww = info.object.w;
      return { style: style, html: "<b>" + escapeHtml(levelName(ww.level)) + "</b><br>" +
        escapeHtml(lang() === "zh" ? ww.headline_zh : ww.headline_en) };
    }
    return rec.origTooltip ? rec.origTooltip(info) : null;
  }

  function levelName(level) {
    var c = config();
    if (c && c.levels && c.levels[level]) return c.levels[level][lang()];
    var zh = { blue: "蓝色预警", yellow: "黄色预警", orange: "橙色预警", red: "红色预警" };
    var en = { blue: "Blue warning", yellow: "Yellow warning", orange: "Orange warning", red: "Red warning" };
    return (lang() === "zh" ? zh : en)[level] || level;
  }

  function sparkline(t, v, width, height) {
    var xs = [], ys = [];
    for (var k = 0; k < t.length; k++) {
      if (t[k] !== null && v[k] !== null) { xs.push(t[k]); ys.push(v[k]); }
    }
    if (xs.length < 2) return "<svg class='st-spark' width='" + width + "' height='" + height + "'></svg>";
    var x0 = xs[0], x1 = xs[xs.length - 1], y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
    if (y1 === y0) { y1 += 1; y0 -= 1; }
    var pts = xs.map(function (x, k) {
      var px = ((x - x0) / Math.max(1e-9, x1 - x0)) * (width - 4) + 2;
      var py = height - 2 - ((ys[k] - y0) / (y1 - y0)) * (height - 4);
      return px.toFixed(1) + "," + py.toFixed(1);
    });
    return "<svg class='st-spark' viewBox='0 0 " + width + " " + height + "' width='" + width +
      "' height='" + height + "' role='img' aria-label='sparkline'><polyline fill='none' " +
      "stroke='currentColor' stroke-width='2' points='" + pts.join(" ") + "'/></svg>";
  }

  function cardElement(rec) {
    var wrap = rec.outer.parentNode || rec.outer;
    var el = wrap.querySelector("#ops-card") || wrap.querySelector(".st-card");
    if (!el) {
      el = document.createElement("div");
      el.className = "st-card";
      el.hidden = true;
      wrap.appendChild(el); // next to the React-managed map div, never inside it
    }
    return el;
  }

  function showCard(rec, sensorId) {
    var el = cardElement(rec);
    return fetch("/api/live/sensor/" + encodeURIComponent(sensorId) + "?minutes=60")
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (c) {
        if (!c) return;
        var zh = lang() === "zh";
        var i = S.pointIndex[c.id];
        var value = i === undefined ? c.value : S.value[i];
        var row = function (k, fz, fe, val) {
          return "<div class='st-card-row'><span>" + escapeHtml(tr(k, fz, fe)) + "</span><b>" +
            escapeHtml(val) + "</b></div>";
        };
        var building = c.building && c.building.id
          ? (zh ? c.building.name_zh : c.building.name_en) || c.building.id : "—";
        var grid = (zh ? c.grid.name_zh : c.grid.name_en) || c.grid.id;
        var html = "<div class='st-card-head'><b>" + escapeHtml(zh ? c.kind_zh : c.kind_en) +
          "</b> <span>" + escapeHtml(c.id) + "</span><button type='button' class='st-card-close' " +
          "aria-label='" + escapeHtml(tr("card_close", "关闭", "Close")) + "'>×</button></div>" +
          row("card_value", "当前值", "Value", formatValue(c.quantity, value)) +
          row("card_quality", "数据质量", "Quality", tr("quality_" + c.quality, "", String(c.quality))) +
          row("card_observed", "观测时间", "Observed", localTime(c.observed_at, true)) +
          (c.alarm_at !== null ? row("card_alarm_at", "报警阈值", "Alarm at", formatValue(c.quantity, c.alarm_at)) : "") +
          row("card_building", "所在建筑", "Building", building) +
          row("card_grid", "网格", "Grid", grid) +
          row("card_address", "地址", "Address", (zh ? c.address.zh : c.address.en) || "—") +
          "<div class='st-card-spark'><span>" + escapeHtml(tr("card_last_hour", "最近一小时", "Last hour")) +
          "</span>" + sparkline(c.history.t, c.history.v, 260, 56) + "</div>";
        el.innerHTML = html;
        el.hidden = false;
        el.dataset.sensor = c.id;
        var close = el.querySelector(".st-card-close");
        close.addEventListener("click", function () { el.hidden = true; });
        close.focus();
      });
  }

  // --- attaching to a deck ----------------------------------------------------------------
  function attach(containerId, entry) {
    var deck = entry.deck;
    var rec = S.entries[containerId];
    if (!rec || rec.entry !== entry || rec.payload !== entry.payload) {
      var layers = deck.props.layers || [];
      var find = function (id) { return layers.filter(function (l) { return l && l.id === id; })[0]; };
      var view = (entry.payload && entry.payload.deck && entry.payload.deck.initialViewState) || {};
      rec = {
        entry: entry, payload: entry.payload, outer: document.getElementById(containerId),
        base: { sensors: find("sensors"), grids: find("sensor-grids"), warnings: find("warnings") },
        aggregated: (view.zoom || 0) < AGGREGATE_BELOW_ZOOM,
        origTooltip: (S.entries[containerId] && S.entries[containerId].origTooltip) || deck.props.getTooltip,
        tooltipStyle: { fontFamily: '"Noto Sans CJK SC", "Noto Sans SC", sans-serif', fontSize: "14px",
          background: "rgba(20, 24, 32, 0.92)", color: "#fff", padding: "8px 10px", borderRadius: "4px" },
      };
      S.entries[containerId] = rec;
      if (rec.base.sensors) setupPoints(rec.base.sensors.props.data || []);
      if (rec.outer && !rec.outer.dataset.stLiveClick) {
        // our own click picking: the bundle's event wiring does not reach Deck.onClick here
        rec.outer.dataset.stLiveClick = "1";
        rec.outer.addEventListener("click", function (ev) { onMapClick(containerId, ev); });
      }
      deck.setProps({
        getTooltip: function (info) { return getTooltip(rec, info); },
        onViewStateChange: function (params) {
          var agg = params.viewState.zoom < AGGREGATE_BELOW_ZOOM;
          if (agg !== rec.aggregated) { rec.aggregated = agg; relayer(rec); }
          rec.viewState = params.viewState;
        },
        onAfterRender: function () {
          if (S.firstPaintAt === null) S.firstPaintAt = performance.now();
          if (S.buildingsDrawnAt === null) probeBuildings(rec);
          if (rec.layerVersion !== undefined && rec.layerVersion !== S.paintedVersion) {
            S.paintedVersion = rec.layerVersion;
            S.lastPaint = { version: rec.layerVersion, at: Date.now() };
          }
        },
      });
    }
    relayer(rec);
    start();
    return rec;
  }

  // The first frame holding the buildings: wait for the GPU to finish it (a 1-pixel read; on
  // software WebGL that is where the drawing time goes), then note the time.
  function probeBuildings(rec) {
    var deck = rec.entry.deck, lm = deck.layerManager;
    if (!lm) return;
    var drawn = lm.getLayers({ layerIds: ["buildings"] }).some(function (l) {
      return !l.isComposite && l.isLoaded && l.props.visible && l.getNumInstances() > 0;
    });
    if (!drawn) return;
    var gl = deck.device && deck.device.gl;
    if (gl) gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, new Uint8Array(4));
    S.buildingsDrawnAt = performance.now();
    if (window.streettwinMap) window.streettwinMap.mark("buildings_drawn");
  }

  function onMapClick(containerId, ev) {
    var rec = S.entries[containerId];
    if (!rec || !rec.entry.inner.contains(ev.target)) return;
    var box = rec.entry.inner.getBoundingClientRect();
    var info = rec.entry.deck.pickObject({
      x: ev.clientX - box.left, y: ev.clientY - box.top, radius: 6, layerIds: ["sensors"],
    });
    if (info && info.object) {
      showCard(rec, info.object.id);
      emit("pick", { kind: "sensor", id: info.object.id });
    }
  }

  function flyTo(containerId, lon, lat, zoom) {
    var rec = S.entries[containerId];
    if (!rec) return false;
    var current = rec.viewState || (rec.payload.deck.initialViewState || {});
    var target = {
      longitude: lon, latitude: lat, zoom: zoom || Math.max(FLY_TO_ZOOM, current.zoom || 0), pitch: 50, bearing: current.bearing || 0,
      maxPitch: 75, transitionDuration: 2500,
    };
    rec.entry.deck.setProps({ initialViewState: target });
    rec.viewState = target;
    if (target.zoom >= AGGREGATE_BELOW_ZOOM && rec.aggregated) { rec.aggregated = false; relayer(rec); }
    return true;
  }

  function setReplay(frame) {
    // frame: {states: Uint8Array (layer order), time: epoch s, index, warnings: {id: ev}} or null
    S.replay = frame;
    S.replayWarnings = frame ? frame.warnings : null;
    recomputeWorst(frame ? frame.states : S.states);
    S.version++;
    schedule();
  }

  window.streettwinLive = {
    state: S,
    attach: attach,
    on: function (kind, fn) { listeners[kind].push(fn); },
    flyTo: flyTo,
    setReplay: setReplay,
    counts: function () { return counts(S.replay ? S.replay.states : S.states); },
    currentWarnings: currentWarnings,
    activeWarnings: activeWarnings,
    levelName: levelName,
    localTime: localTime,
    formatValue: formatValue,
    showCard: function (containerId, id) { return showCard(S.entries[containerId], id); },
    isStale: function () {
      return S.status !== "live" || (Date.now() - S.lastMessageAt) / 1000 > STALE_AFTER_S;
    },
    secondsSinceMessage: function () {
      return S.lastMessageAt ? (Date.now() - S.lastMessageAt) / 1000 : Infinity;
    },
    STALE_AFTER_S: STALE_AFTER_S,
    AGGREGATE_BELOW_ZOOM: AGGREGATE_BELOW_ZOOM,
  };
})();
