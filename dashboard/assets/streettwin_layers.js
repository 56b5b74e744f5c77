/* StreetTwin map overlays: the layer switcher and the live values of model-driven layers.
 *
 * The map page's deck (dashboard/api_layers.py map_deck) carries every layer of
 * layers/registry.py LAYERS once, geometry included; overlays that start switched off have
 * "visible": false. Switching a layer off takes it out of the deck's layer list (so the live
 * sensor module, which restyles the list it finds, never brings it back); switching it on
 * puts the first instance back in draw order.
 *
 * Model-driven layers (payload.live) get their values from /api/layers/live.json, polled
 * while one of them is shown — values only, never geometry:
 *   bitmap  {image, bounds}            flood depth image
 *   colour  {key, accessor, items}     recolour features by id (items[id].c, .w = width m)
 *   subset  {source, key, items}       draw the features of another layer named in items
 *   records {data}                     replace the (small) records whole
 */
(function () {
  "use strict";

  var POLL_MS = 5000;
  var S = { entries: {}, visible: null, switchable: null, values: {}, version: 0, timer: null, busy: false };

  function isVisible(rec, id) {
    if (S.visible && S.switchable && S.switchable.indexOf(id) >= 0) return S.visible.indexOf(id) >= 0;
    return !rec.initiallyHidden[id];
  }

  function idOf(d, key) {
    var p = (d && d.properties) || d || {};
    return p[key];
  }

  function withValues(rec, id, layer) {
    var v = S.values[id];
    if (!v) return layer;
    var base = rec.base[id];
    if (v.mode === "bitmap") {
      return layer.clone({ image: v.image, bounds: v.bounds });
    }
    if (v.mode === "records") {
      return layer.clone({ data: v.data });
    }
    if (v.mode === "colour") {
      var acc = v.accessor || "getFillColor";
      var orig = base.props[acc];
      var props = { updateTriggers: {} };
      props[acc] = function (d, info) {
        var it = v.items[idOf(d, v.key)];
        if (it) return it.c;
        return typeof orig === "function" ? orig(d, info) : orig;
      };
      props.updateTriggers[acc] = v.version;
      if (v.width) {
        var origW = base.props.getLineWidth;
        props.getLineWidth = function (d, info) {
          var it = v.items[idOf(d, v.key)];
          if (it && it.w) return it.w;
          return typeof origW === "function" ? origW(d, info) : origW;
        };
        props.updateTriggers.getLineWidth = v.version;
      }
      return layer.clone(props);
    }
    if (v.mode === "subset") {
      var cache = rec.subsets[id];
      if (!cache || cache.version !== v.version) {
        var src = rec.base[v.source];
        var data = src ? src.props.data : null;
        var features = (data && (data.features || data)) || [];
        cache = rec.subsets[id] = {
          version: v.version,
          data: features.filter(function (f) { return v.items[idOf(f, v.key)] !== undefined; }),
        };
      }
      return layer.clone({
        data: cache.data,
        getFillColor: function (f) { var it = v.items[idOf(f, v.key)]; return it ? it.c : [0, 0, 0, 0]; },
        updateTriggers: { getFillColor: v.version },
      });
    }
    return layer;
  }

  function apply(rec) {
    var deck = rec.entry.deck;
    if (!rec.entry.inner.isConnected) return;
    var current = {};
    (deck.props.layers || []).forEach(function (l) { if (l) current[l.id] = l; });
    var out = [];
    rec.order.forEach(function (id) {
      if (!isVisible(rec, id)) return;
      // a layer taken out earlier comes back as a fresh copy: deck.gl moves GPU state from
      // the last instance it drew to the new one, never to an instance it already retired
      var layer = current[id] || (rec.base[id] && rec.base[id].clone({}));
      if (!layer) return;
      if (rec.initiallyHidden[id] && !layer.props.visible) layer = layer.clone({ visible: true });
      out.push(withValues(rec, id, layer));
    });
    deck.setProps({ layers: out });
  }

  function wantedLive() {
    var ids = {};
    Object.keys(S.entries).forEach(function (cid) {
      var rec = S.entries[cid];
      rec.live.forEach(function (id) { if (isVisible(rec, id)) ids[id] = true; });
    });
    return Object.keys(ids);
  }

  function fetchValues() {
    var ids = wantedLive();
    if (!ids.length || S.busy) return Promise.resolve(null);
    S.busy = true;
    return fetch("/api/layers/live.json?layers=" + encodeURIComponent(ids.join(",")), {
      credentials: "same-origin",
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (body) {
      S.busy = false;
      if (!body || !body.layers) return null;
      var changed = false;
      Object.keys(body.layers).forEach(function (id) {
        var v = body.layers[id];
        var text = JSON.stringify(v);
        var old = S.values[id];
        if (old && old.text === text) return;
        v.text = text;
        v.version = ++S.version;
        S.values[id] = v;
        changed = true;
      });
      if (changed) Object.keys(S.entries).forEach(function (cid) { apply(S.entries[cid]); });
      return body;
    }).catch(function () { S.busy = false; return null; });
  }

  function tick() {
    S.timer = window.setTimeout(tick, POLL_MS);
    if (document.hidden) return;
    fetchValues();
  }

  function attach(containerId, entry) {
    var rec = S.entries[containerId];
    if (!rec || rec.entry !== entry || rec.payload !== entry.payload) {
      var base = {};
      (entry.deck.props.layers || []).forEach(function (l) { if (l) base[l.id] = l; });
      var specs = (entry.payload.deck && entry.payload.deck.layers) || [];
      var hidden = {};
      specs.forEach(function (l) { if (l.visible === false) hidden[l.id] = true; });
      rec = {
        entry: entry, payload: entry.payload, base: base, initiallyHidden: hidden, subsets: {},
        order: specs.map(function (l) { return l.id; }), live: entry.payload.live || [],
      };
      S.entries[containerId] = rec;
    }
    apply(rec);
    if (S.timer === null) tick();
    return rec;
  }

  // the layer switcher (Dash checklist) changed: value = ids on, options = the ids it controls
  function setLayers(ids, options, containerId) {
    S.visible = (ids || []).slice();
    S.switchable = (options || []).map(function (o) { return o && o.value !== undefined ? o.value : o; });
    var rec = S.entries[containerId];
    if (!rec) return window.dash_clientside.no_update;
    apply(rec);
    fetchValues();
    return "layers:" + rec.order.filter(function (id) { return isVisible(rec, id); }).join(",");
  }

  window.dash_clientside = window.dash_clientside || {};
  window.dash_clientside.streettwin = Object.assign(window.dash_clientside.streettwin || {}, {
    setLayers: setLayers,
  });
  window.streettwinLayers = {
    state: S,
    attach: attach,
    refresh: fetchValues,
    valueOf: function (layerId, id) {
      var v = S.values[layerId];
      return v && v.items ? v.items[id] : undefined;
    },
  };
})();
