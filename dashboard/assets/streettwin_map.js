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

  function getTooltip(info) {
    if (!info || !info.picked || !info.object || !info.layer) return null;
    var p = info.object.properties || info.object;
    if (info.layer.id === "buildings") {
      return { html: buildingTooltip(p), style: TOOLTIP_STYLE };
    }
    return null;
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
    var deck = window.createDeck({ container: inner, jsonInput: payload.deck, tooltip: false });
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
    return "ready:" + payload.style + ":" + (payload.deck.layers || []).length;
  }

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.streettwin = Object.assign(window.dash_clientside.streettwin || {}, {
    renderDeck: renderDeck,
  });
  window.streettwinMap = { loadDeck: loadDeck, mark: mark, timings: timings };
})();
