// The dashboard: the key owner's latency, throughput, cache and live jobs, redrawn every
// few seconds. Plain browser JavaScript drawing inline SVG; no build step, nothing outside.
"use strict";

(() => {
  const KEY_STORE = "abstrakt-queue.api-key"; // shared with the playground
  const WINDOW_STORE = "abstrakt-queue.dashboard-window";
  const REFRESH_MS = 5000;
  const BUCKETS = 30;
  const PHASES = ["queue_wait", "model_loading", "generation", "encoding", "upload"];
  const PHASE_COLORS = ["var(--p1)", "var(--p2)", "var(--p3)", "var(--p4)", "var(--p5)"];
  const SERIES_COLORS = ["var(--p3)", "var(--p5)", "var(--p4)", "var(--p2)", "var(--p1)"];
  const NS = "http://www.w3.org/2000/svg";

  const $ = (id) => document.getElementById(id);
  let timer = null;
  let generation = 0; // a newer refresh makes an older one's answers stale

  // --- small helpers -----------------------------------------------------------------
  function storage(action) {
    try {
      return action();
    } catch {
      return null; // storage refused (private mode, a sandbox): the page still works
    }
  }

  function ms(value) {
    if (value === null || value === undefined) return "–";
    if (value >= 60000) return `${(value / 60000).toFixed(1)} min`;
    if (value >= 1000) return `${(value / 1000).toFixed(value >= 10000 ? 0 : 1)} s`;
    return `${Math.round(value)} ms`;
  }

  function node(tag, attrs, parent, text) {
    const made = document.createElementNS(NS, tag);
    for (const [name, value] of Object.entries(attrs || {})) made.setAttribute(name, value);
    if (text !== undefined) made.textContent = text;
    if (parent) parent.appendChild(made);
    return made;
  }

  function canvas(host, width, height) {
    host.replaceChildren();
    return node("svg", { viewBox: `0 0 ${width} ${height}`, role: "img" }, host);
  }

  function legend(host, names, colors) {
    host.replaceChildren();
    names.forEach((name, i) => {
      const item = document.createElement("span");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = colors[i % colors.length];
      item.append(swatch, name);
      host.appendChild(item);
    });
  }

  function niceMax(value) {
    if (value <= 0) return 1;
    const power = 10 ** Math.floor(Math.log10(value));
    for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
    return 10 * power;
  }

  // --- the calls (keyed) -------------------------------------------------------------
  async function call(path) {
    const key = $("api-key").value.trim();
    const answer = await fetch(path, { headers: { Authorization: `Bearer ${key}` } });
    if (!answer.ok) {
      let detail = "";
      try {
        const body = await answer.json();
        detail = body.error?.message || body.detail || "";
      } catch {
        /* not JSON */
      }
      throw new Error(`${path.split("?")[0]}: ${answer.status} ${detail}`.trim());
    }
    return answer.json();
  }

  // --- the charts ---------------------------------------------------------------------
  function drawPhases(groups) {
    const host = $("phases");
    const rows = groups.filter((g) => g.end_to_end && Object.keys(g.phases).length);
    legend($("phases-legend"), PHASES, PHASE_COLORS);
    if (!rows.length) return host.replaceChildren();
    const width = 900, left = 170, right = 90, rowH = 30;
    const height = rows.length * rowH + 28;
    const svg = canvas(host, width, height);
    const total = (g) => PHASES.reduce((sum, p) => sum + (g.phases[p]?.p50_ms || 0), 0);
    const top = niceMax(Math.max(...rows.map(total)));
    const scale = (width - left - right) / top;
    rows.forEach((group, i) => {
      const y = i * rowH + 4;
      node("text", { x: left - 8, y: y + 16, "text-anchor": "end", class: "value" }, svg,
        group.group.model);
      let x = left;
      PHASES.forEach((phase, p) => {
        const figure = group.phases[phase];
        if (!figure) return;
        const w = Math.max(figure.p50_ms * scale, 0.5);
        const bar = node("rect", { x, y, width: w, height: rowH - 10, fill: PHASE_COLORS[p],
          "data-model": group.group.model, "data-phase": phase }, svg);
        node("title", {}, bar, `${group.group.model} · ${phase}: p50 ${ms(figure.p50_ms)}, ` +
          `p90 ${ms(figure.p90_ms)} (${figure.count} jobs)`);
        x += w;
      });
      node("text", { x: x + 6, y: y + 16, class: "value" }, svg,
        `${ms(total(group))} · ${group.end_to_end.count} jobs`);
    });
    const axisY = rows.length * rowH + 4;
    node("line", { x1: left, x2: width - right, y1: axisY, y2: axisY, class: "axis" }, svg);
    for (let t = 0; t <= 4; t += 1) {
      const x = left + (t / 4) * (width - left - right);
      node("text", { x, y: axisY + 16, "text-anchor": "middle" }, svg, ms((top * t) / 4));
    }
  }

  function drawByDuration(groups) {
    const host = $("by-duration");
    const timed = groups.filter((g) => g.end_to_end);
    const series = new Map(); // resolution -> [{x, p50, p90}]
    for (const g of timed) {
      const x = g.group.duration === "none" ? 0 : Number(g.group.duration);
      if (!series.has(g.group.resolution)) series.set(g.group.resolution, []);
      series.get(g.group.resolution).push({ x, p50: g.end_to_end.p50_ms, p90: g.end_to_end.p90_ms });
    }
    const names = [...series.keys()].sort();
    legend($("by-duration-legend"), names.map((n) => `${n} (p50 —, p90 ┄)`), SERIES_COLORS);
    if (!timed.length) return host.replaceChildren();
    const width = 440, height = 240, left = 52, bottom = 30, top = 10, right = 12;
    const svg = canvas(host, width, height);
    const xs = timed.map((g) => (g.group.duration === "none" ? 0 : Number(g.group.duration)));
    const xMax = Math.max(1, ...xs);
    const yMax = niceMax(Math.max(...timed.map((g) => g.end_to_end.p90_ms)));
    const px = (x) => left + (x / xMax) * (width - left - right);
    const py = (y) => height - bottom - (y / yMax) * (height - top - bottom);
    node("line", { x1: left, x2: width - right, y1: py(0), y2: py(0), class: "axis" }, svg);
    node("line", { x1: left, x2: left, y1: top, y2: py(0), class: "axis" }, svg);
    for (let t = 0; t <= 4; t += 1) {
      node("text", { x: left - 6, y: py((yMax * t) / 4) + 4, "text-anchor": "end" }, svg,
        ms((yMax * t) / 4));
    }
    for (const x of new Set(xs)) {
      node("text", { x: px(x), y: height - 10, "text-anchor": "middle" }, svg,
        x === 0 ? "image" : `${x} s`);
    }
    names.forEach((name, i) => {
      const points = series.get(name).sort((a, b) => a.x - b.x);
      const color = SERIES_COLORS[i % SERIES_COLORS.length];
      for (const [key, dash] of [["p50", ""], ["p90", "4 3"]]) {
        node("polyline", { points: points.map((p) => `${px(p.x)},${py(p[key])}`).join(" "),
          fill: "none", stroke: color, "stroke-width": 2, "stroke-dasharray": dash }, svg);
      }
      for (const p of points) {
        const dot = node("circle", { cx: px(p.x), cy: py(p.p50), r: 4, fill: color,
          "data-resolution": name, "data-duration": p.x }, svg);
        node("title", {}, dot, `${name}, ${p.x ? `${p.x} s` : "image"}: p50 ${ms(p.p50)}, ` +
          `p90 ${ms(p.p90)}`);
      }
    });
  }

  function drawThroughput(activity) {
    const host = $("throughput");
    const buckets = activity.series;
    if (!buckets.some((b) => b.jobs)) return host.replaceChildren();
    const width = 440, height = 240, left = 34, bottom = 30, top = 10, right = 40;
    const svg = canvas(host, width, height);
    const yMax = niceMax(Math.max(...buckets.map((b) => b.jobs)));
    const slot = (width - left - right) / buckets.length;
    const py = (y) => height - bottom - (y / yMax) * (height - top - bottom);
    const pe = (rate) => height - bottom - rate * (height - top - bottom);
    node("line", { x1: left, x2: width - right, y1: py(0), y2: py(0), class: "axis" }, svg);
    node("text", { x: left - 6, y: py(yMax) + 4, "text-anchor": "end" }, svg, String(yMax));
    node("text", { x: left - 6, y: py(0) + 4, "text-anchor": "end" }, svg, "0");
    node("text", { x: width - right + 4, y: pe(1) + 4 }, svg, "100%");
    buckets.forEach((b, i) => {
      const parts = [
        [b.succeeded - b.from_cache, "var(--p4)", "generated"],
        [b.from_cache, "var(--p1)", "from cache"],
        [b.failed, "var(--bad)", "failed"],
        [b.canceled, "var(--line)", "canceled"],
      ];
      let y = py(0);
      for (const [count, fill, label] of parts) {
        if (!count) continue;
        const h = py(0) - py(count);
        y -= h;
        const bar = node("rect", { x: left + i * slot + 1, y, width: Math.max(slot - 2, 1),
          height: h, fill, "data-bucket": i, "data-count": count }, svg);
        node("title", {}, bar, `${new Date(b.start).toLocaleTimeString()}: ${count} ${label}`);
      }
    });
    const line = buckets.map((b, i) => `${left + (i + 0.5) * slot},${pe(b.error_rate)}`);
    node("polyline", { points: line.join(" "), fill: "none", stroke: "var(--p2)",
      "stroke-width": 2, "data-series": "error_rate" }, svg);
    const first = new Date(buckets[0].start), last = new Date(activity.to);
    const label = (at) => (last - first > 12 * 3600e3 ? at.toLocaleString() : at.toLocaleTimeString());
    node("text", { x: left, y: height - 10 }, svg, label(first));
    node("text", { x: width - right, y: height - 10, "text-anchor": "end" }, svg, label(last));
  }

  function showCache(cache) {
    $("hit-rate").textContent = cache.hit_rate === null ? "–"
      : `${(cache.hit_rate * 100).toFixed(1)}%`;
    $("hit-detail").textContent =
      `${cache.from_cache} from the cache or joined, ${cache.generated} generated`;
  }

  function showProviders(providers) {
    const list = $("providers");
    list.replaceChildren();
    for (const p of providers) {
      const item = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = `${p.name}${p.configured ? "" : " (no key)"} · ${p.in_flight} in flight`;
      const state = document.createElement("span");
      state.className = `circuit ${p.circuit}`;
      state.textContent = p.circuit;
      state.title = p.last_error || `${p.consecutive_failures} consecutive failures`;
      item.dataset.provider = p.name;
      item.append(name, state);
      list.appendChild(item);
    }
  }

  function showInFlight(jobs) {
    const body = $("in-flight").querySelector("tbody");
    body.replaceChildren();
    $("in-flight-count").textContent = jobs.length ? `${jobs.length} queued or running`
      : "nothing queued or running";
    for (const job of jobs) {
      const row = document.createElement("tr");
      row.dataset.job = job.id;
      const cells = [job.id.slice(0, 8), job.model, job.status, job.phase.replace("_", " ")];
      for (const text of cells) {
        const cell = document.createElement("td");
        cell.textContent = text;
        row.appendChild(cell);
      }
      const bar = document.createElement("progress");
      bar.max = 100;
      bar.value = job.progress;
      const cell = document.createElement("td");
      cell.append(bar, ` ${job.progress}%`);
      const elapsed = document.createElement("td");
      elapsed.textContent = `${job.phase_elapsed_s.toFixed(1)} s`;
      row.append(cell, elapsed);
      body.appendChild(row);
    }
  }

  // --- refreshing ----------------------------------------------------------------------
  async function refresh() {
    clearTimeout(timer);
    const mine = ++generation;
    const window = $("window").value;
    const q = encodeURIComponent(window);
    try {
      const [byModel, byShape, activity, providers] = await Promise.all([
        call(`/v1/stats/latency?window=${q}&group_by=model`),
        call(`/v1/stats/latency?window=${q}&group_by=duration,resolution`),
        call(`/v1/stats/activity?window=${q}&buckets=${BUCKETS}`),
        call("/v1/providers"),
      ]);
      if (mine !== generation) return;
      drawPhases(byModel.groups);
      drawByDuration(byShape.groups);
      drawThroughput(activity);
      showCache(activity.cache);
      showProviders(providers);
      showInFlight(activity.in_flight);
      $("problem").hidden = true;
      $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
      document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || 0) + 1);
    } catch (error) {
      if (mine !== generation) return;
      $("problem").textContent = error.message;
      $("problem").hidden = false;
    }
    if (mine === generation) timer = setTimeout(refresh, REFRESH_MS);
  }

  function start(event) {
    if (event) event.preventDefault();
    const key = $("api-key").value.trim();
    if (!key) {
      $("problem").textContent = "Enter an API key to see its jobs.";
      $("problem").hidden = false;
      return;
    }
    storage(() => localStorage.setItem(KEY_STORE, key));
    storage(() => localStorage.setItem(WINDOW_STORE, $("window").value));
    refresh();
  }

  $("access").addEventListener("submit", start);
  $("window").addEventListener("change", () => $("api-key").value.trim() && start());
  const savedWindow = storage(() => localStorage.getItem(WINDOW_STORE));
  if (savedWindow) $("window").value = savedWindow;
  const savedKey = storage(() => localStorage.getItem(KEY_STORE));
  if (savedKey) {
    $("api-key").value = savedKey;
    start();
  }
})();
