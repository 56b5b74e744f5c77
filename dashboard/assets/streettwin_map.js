/* StreetTwin: mount and update deck.gl maps from Dash stores (clientside callbacks).
 *
 * deck.gl itself comes from pydeck's bundle (served at /vendor/deckgl/index.js), which defines
 * the globals createDeck({container, jsonInput, tooltip}) and updateDeck(jsonInput, deck).
 * A store holds {deck: jsonInput, background: css, style: name}; renderDeck creates the deck
 * the first time its container exists and afterwards only updates it, so layers with the same
 * id keep their GPU state.
 *
 * The wall screen does not carry its deck in a store: it fetches it from /api/layers (cached,
 * ETag) with loadDeck(url), which the page's own script starts before Dash has even rendered
 * the layout. mark(name) notes first times (performance.now(), ms since navigation) in
 * window.streettwinTimings for `streettwin bench ui`.
 */
(function () {
  "use strict";

  var decks = {}; // container id -> {deck, inner}
  var state = { lang: "zh" };
  var fetches = {}; // url -> Promise of the parsed deck payload
  var timings = (window.streettwinTimings = window.streettwinTimings || {});

  function mark(name) {
    if (timings[name] === undefined) timings[name] = performance.now();
  }

  // One request per URL per page: the prefetch started at script load is reused by the page.
  function loadDeck(url) {
    if (!fetches[url]) {
      mark("deck_fetch_start");
      fetches[url] = fetch(url, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) throw new Error("deck " + url + ": HTTP " + r.status);
        return r.json();
      }).then(function (payload) {
        mark("deck_fetched");
        return payload;
      });
      fetches[url].catch(function () { delete fetches[url]; }); // a later call retries
    }
    return fetches[url];
  }

  var TOOLTIP_STYLE = {
    fontFamily: '"Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif',
    fontSize: "13px",
    background: "rgba(20, 24, 32, 0.92)",
    color: "#fff",
    padding: "8px 10px",
    borderRadius: "4px",
    maxWidth: "360px",
  };

  var LABELS = {
    zh: { levels: "层数", height: "高度", use: "用途", address: "地址", m: " 米" },
    en: { levels: "Levels", height: "Height", use: "Use", address: "Address", m: " m" },
  };

  function escapeHtml(value) {
    return String(value === undefined || value === null ? "" : value)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;");
  }

  function buildingTooltip(p) {
    var zh = state.lang === "zh";
    var t = LABELS[zh ? "zh" : "en"];
    var name = zh ? p.name_zh || p.name_en : p.name_en || p.name_zh;
    var address = zh ? p.address_zh : p.address_en;
    var use = zh ? p.use_zh : p.use_en;
    return (
      "<b>" + escapeHtml(name) + "</b>" +
      (address ? "<br>" + t.address + ": " + escapeHtml(address) : "") +
      "<br>" + t.use + ": " + escapeHtml(use) +
      "<br>" + t.levels + ": " + escapeHtml(p.levels) +
      " · " + t.height + ": " + escapeHtml(p.height_m) + t.m
    );
  }

  var OVERLAY_LABELS = {
    zh: { minutes: "预计到达", min: " 分钟", burning: "正在燃烧", density: "密度", los: "服务水平",
      persons: " 人/平方米", level: "等级", state: "状态", type: "类型", faulted: "故障", ok: "正常",
      water: "供水管道", power: "馈线", noData: "暂无数据" },
    en: { minutes: "Arrival in", min: " min", burning: "burning", density: "Density", los: "Level of service",
      persons: " people/m²", level: "Level", state: "State", type: "Type", faulted: "faulted", ok: "normal",
      water: "Water main", power: "Feeder", noData: "no data yet" },
  };

  function overlayValue(layerId, id) {
    return window.streettwinLayers ? window.streettwinLayers.valueOf(layerId, id) : undefined;
  }

  // tooltips of the overlays of layers/registry.py (fire, crowd, networks, tickets, crews, grids)
  function overlayTooltip(id, p) {
    var zh = state.lang === "zh";
    var t = OVERLAY_LABELS[zh ? "zh" : "en"];
    var name = zh ? p.name_zh || p.name_en : p.name_en || p.name_zh;
    if (id === "fire-arrival") {
      var f = overlayValue(id, p.building_id) || { min: p.minutes };
      return "<b>" + escapeHtml(p.building_id) + "</b><br>" + t.minutes + ": " +
        (f.min > 0 ? escapeHtml(f.min) + t.min : t.burning);
    }
    if (id === "crowd-density") {
      var c = overlayValue(id, p.id);
      return "<b>" + escapeHtml(name || p.id) + "</b><br>" + (c
        ? t.density + ": " + escapeHtml(c.d) + t.persons + "<br>" + t.los + ": " + escapeHtml(c.los)
        : t.noData);
    }
    if (id === "networks") {
      var bad = overlayValue(id, p.id);
      return "<b>" + escapeHtml(t[p.net] || p.net) + " " + escapeHtml(p.id) + "</b><br>" +
        t.state + ": " + (bad ? t.faulted : t.ok);
    }
    if (id === "grid-state") {
      var g = overlayValue(id, p.grid_id);
      return "<b>" + escapeHtml(name || p.grid_id) + "</b><br>" + t.level + ": " + escapeHtml(g ? g.level : "—");
    }
    if (id === "tickets") {
      return "<b>" + escapeHtml(p.id) + "</b><br>" + t.level + ": " + escapeHtml(p.level) +
        "<br>" + t.state + ": " + escapeHtml(p.state) + "<br>" + t.type + ": " + escapeHtml(p.type);
    }
    if (id === "crews") {
      return "<b>" + escapeHtml(p.name || p.id) + "</b><br>" + t.state + ": " + escapeHtml(p.state);
    }
    return null;
  }

  function getTooltip(info) {
    if (!info || !info.picked || !info.object || !info.layer) return null;
    var p = info.object.properties || info.object;
    if (info.layer.id === "buildings") {
      return { html: buildingTooltip(p), style: TOOLTIP_STYLE };
    }
    var html = overlayTooltip(info.layer.id, p);
    return html ? { html: html, style: TOOLTIP_STYLE } : null;
  }

  function mount(containerId, payload) {
    var outer = document.getElementById(containerId);
    if (!outer || typeof window.createDeck !== "function") return null;
    var old = decks[containerId];
    if (old && old.inner.isConnected) return old;
    if (old) {
      try { old.deck.finalize(); } catch (e) { /* container already gone */ }
    }
    // deck.gl inserts an overlay next to its container: give it a child of ours, so the
    // React-managed div never sees foreign siblings.
    var inner = document.createElement("div");
    inner.className = "st-deck";
    outer.appendChild(inner);
    mark("create_deck");
    // no multisampling: with software WebGL (wall PCs without a GPU, the headless tests) 4x
    // MSAA quadruples the fragment work of the first frame; edges of flat map shapes do not need it
    var json = Object.assign({}, payload.deck, {
      deviceProps: Object.assign({ webgl: { antialias: false } }, payload.deck.deviceProps || {})
    });
    var deck = window.createDeck({ container: inner, jsonInput: json, tooltip: false });
    if (!deck) return null;
    deck.setProps({ getTooltip: getTooltip });
    decks[containerId] = { deck: deck, inner: inner };
    return decks[containerId];
  }

  function renderDeck(payload, lang, containerId) {
    var nc = window.dash_clientside.no_update;
    if (lang) state.lang = lang;
    if (!payload || !payload.deck) return nc;
    var outer = document.getElementById(containerId);
    if (outer && payload.background) outer.style.background = payload.background;
    var entry = decks[containerId];
    if (entry && entry.inner.isConnected) {
      // a language switch re-sends the same store: converting it again would hand deck.gl
      // new data objects and re-tessellate every building for nothing
      if (entry.payload !== payload) window.updateDeck(payload.deck, entry.deck);
    } else {
      entry = mount(containerId, payload);
      if (!entry) return "error: deck.gl not loaded";
    }
    entry.payload = payload;
    window.streettwinDecks = decks; // for debugging and browser tests
    window.streettwinLang = state.lang;
    // live values, quality and warnings recolour the sensor layers (streettwin_live.js)
    if (window.streettwinLive) window.streettwinLive.attach(containerId, entry);
    // the layer switcher and model-driven overlays (streettwin_layers.js)
    if (window.streettwinLayers) window.streettwinLayers.attach(containerId, entry);
    // layers shown when the page opens (overlays start switched off)
    var shown = (payload.deck.layers || []).filter(function (l) { return l.visible !== false; });
    return "ready:" + payload.style + ":" + shown.length;
  }

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.streettwin = Object.assign(window.dash_clientside.streettwin || {}, {
    renderDeck: renderDeck,
  });
  window.streettwinMap = { loadDeck: loadDeck, mark: mark, timings: timings };
})();
