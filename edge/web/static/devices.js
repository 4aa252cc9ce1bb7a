// The technician's page: live device states and the history charts.
"use strict";
// ---------------------------------------------------------------- technicians: devices
// Labels and words come from i18n.py (#devices data-words), each device's name from its config
// label (edge/web/labels.py); each card keeps its config id and each row its raw key in title
// attributes, for whoever helps on the phone.
const ORDER = ["ups.status", "battery.charge", "battery.runtime", "input.voltage", "ups.load",
  "network.connected", "network.operator", "signal.bars", "signal.rsrp", "signal.sinr",
  "printer.state", "supply.black_toner", "receipt.paper", "system.cpu_temp", "system.disk_free",
  "system.disk_used", "system.memory_used", "system.uptime"];
const UPS_GOOD = ["OL"], UPS_BAD = ["OB", "LB", "RB", "FSD", "OVER", "OFF", "ALARM"];
let W = { metrics: {}, ups: {}, kinds: {}, values: {}, units: {}, states: {} };
function bars(rsrp) {
  const n = rsrp >= -85 ? 4 : rsrp >= -95 ? 3 : rsrp >= -105 ? 2 : rsrp >= -115 ? 1 : 0;
  return "▮".repeat(n) + "▯".repeat(4 - n);
}
function duration(seconds) {
  const u = W.units, m = Math.floor(Math.max(0, seconds) / 60), h = Math.floor(m / 60), d = Math.floor(h / 24);
  const two = (a, ua, b, ub) => b ? `${a} ${ua} ${b} ${ub}` : `${a} ${ua}`;
  if (m < 1) return `${Math.floor(Math.max(0, seconds))} ${u.s}`;
  if (h < 1) return `${m} ${u.min}`;
  return d < 1 ? two(h, u.h, m % 60, u.min) : two(d, u.d, h % 24, u.h);
}
function metricText(key, m) {
  const v = m.value;
  if (typeof v === "boolean") return v ? W.units.yes : W.units.no;
  if (typeof v === "string") return W.values[`${key}=${v}`] || v;
  if (typeof v !== "number") return String(v);
  if (m.unit === "s") return duration(v);
  if (m.unit === "B") return size(v);
  if (m.unit === "B/s") return size(v) + "/s";
  return m.unit ? `${num(v)} ${m.unit}` : num(v);
}
function upsStatus(s) {
  const tags = String(s).split(/\s+/).filter(Boolean).map((w) => el("span", {
    class: "tag" + (UPS_GOOD.includes(w) ? " good" : UPS_BAD.includes(w) ? " bad" : ""), "data-word": w },
  W.ups[w] || w));
  return el("b", {}, ...tags.flatMap((t, i) => i ? [" ", t] : [t]));
}
function metricRow(key, m) {
  // a text the device itself reports (a model name...) is data, not a word of ours
  const raw = typeof m.value === "string" && !W.values[`${key}=${m.value}`];
  return el("div", { class: "metric", "data-metric": key, title: `${key} = ${m.value}${m.unit ? " " + m.unit : ""}` },
    el("span", {}, W.metrics[key] || key),
    key === "ups.status" ? upsStatus(m.value) : el("b", raw ? { translate: "no" } : {}, metricText(key, m)));
}
const LABELS = {};  // "kind.name" -> what people call the device (its config label)
function rank(key) { const i = ORDER.indexOf(key); return i < 0 ? ORDER.length : i; }
function devicesPage() {
  W = JSON.parse($("devices").dataset.words);
  let onBattery = null;
  live("/api/events/status", "/api/status", (v) => {
    drawDevices(v);
    // the charts follow the cards: at once when the power changes, else every 15 s at most
    if ((onBattery !== null && v.on_battery !== onBattery) || Date.now() - fetched > 15000) charts();
    onBattery = v.on_battery;
  });
  charts();
  setInterval(() => { if (Date.now() - fetched > 30000) charts(); }, 30000);
  let width = 0;
  new ResizeObserver(() => {
    if ($("charts").clientWidth !== width) { width = $("charts").clientWidth; drawCharts(); }
  }).observe($("charts"));
}
function drawDevices(v) {
  $("on-battery").hidden = !v.on_battery;
  $("no-service").hidden = v.service;
  v.devices.forEach((d) => { LABELS[`${d.kind}.${d.name}`] = d.label; });
  $("devices").replaceChildren(...v.devices.map((d) => {
    const box = el("section", { class: `card device ${d.state}`, "data-device": `${d.kind}-${d.name}` },
      el("h2", { title: `${d.kind} ${d.name}` }, `${d.label} `,
        el("span", { class: "state" }, W.states[`${d.kind}.${d.state}`] || W.states[d.state] || d.state)));
    const m = d.metrics;
    if (m["battery.charge"]) box.append(el("meter", { min: 0, max: 100, low: 25, high: 50, optimum: 100,
      value: m["battery.charge"].value }));
    if (m["signal.bars"] || m["signal.rsrp"]) box.append(el("div", { class: "bars" },
      m["signal.bars"] ? "▮".repeat(m["signal.bars"].value) + "▯".repeat(Math.max(0, 5 - m["signal.bars"].value))
        : bars(m["signal.rsrp"].value)));
    const keys = Object.keys(m).map((k, i) => [rank(k), i, k]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    keys.forEach(([, , k]) => box.append(metricRow(k, m[k])));
    d.problems.forEach((p) => box.append(el("p", { class: "error" }, VI ? p.vi : p.en)));
    return box;
  }));
}

// History charts: inline SVG drawn at the box's own pixel width (no stretched text), a fixed
// y range per series (widened when the data leaves it), 3 labelled grid lines, HH:MM below.
const CHARTS = { "battery.charge": [0, 100, "%"], "signal.rsrp": [-130, -70, "dBm"],
  "signal.sinr": [-10, 30, "dB"], "system.cpu_temp": [30, 90, "°C"] };
const SVG = "http://www.w3.org/2000/svg";
let samples = null, fetched = 0;
function svgEl(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  Object.entries(attrs).forEach(([k, v]) => e.setAttribute(k, v));
  if (text !== undefined) e.textContent = text;
  return e;
}
function hhmm(t) {
  const d = new Date(t * 1000);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}
function yRange(ys, fixed) {
  let lo = Math.min(...ys), hi = Math.max(...ys);
  if (fixed) {
    const step = (fixed[1] - fixed[0]) / 4;
    return [Math.min(fixed[0], Math.floor(lo / step) * step), Math.max(fixed[1], Math.ceil(hi / step) * step)];
  }
  if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
  return [lo - (hi - lo) * 0.1, hi + (hi - lo) * 0.1];
}
async function charts() {
  fetched = Date.now();
  samples = await api("/api/history?hours=6");
  drawCharts();
}
function drawCharts() {
  if (!samples) return;
  const box = $("charts"), keys = Object.keys(CHARTS);
  const series = Object.entries(samples.series)
    .map(([name, pts]) => [name, pts, keys.find((k) => name.endsWith("." + k))])
    .filter(([, pts, key]) => key && pts.length)
    .sort((a, b) => keys.indexOf(a[2]) - keys.indexOf(b[2]) || a[0].localeCompare(b[0]));
  $("no-history").hidden = series.length > 0;
  box.replaceChildren(...series.map(([name, pts, key]) => {
    const unit = CHARTS[key][2], last = pts[pts.length - 1][1];
    const device = name.slice(0, -key.length - 1), kind = device.split(".")[0];
    const who = LABELS[device] || W.kinds[kind] || "";
    const svg = svgEl("svg", { class: "chart", role: "img", "data-series": name });
    return el("section", { class: "card chart-card", "data-chart": key },
      el("h3", {}, el("span", {}, `${W.metrics[key] || key} `, el("small", {}, who)),
        el("b", { class: "latest" }, metricText(key, { value: last, unit }))), svg);
  }));
  box.querySelectorAll("svg.chart").forEach((svg, i) => drawChart(svg, series[i][1], series[i][2]));
}
function drawChart(svg, pts, key) {
  const [, , unit] = CHARTS[key], H = 170, W_ = Math.max(200, svg.getBoundingClientRect().width);
  const top = 10, bottom = H - 24, right = W_ - 6;
  svg.setAttribute("viewBox", `0 0 ${W_} ${H}`);
  svg.setAttribute("height", H);
  const [lo, hi] = yRange(pts.map((p) => p[1]), CHARTS[key]);
  const ticks = [hi, (lo + hi) / 2, lo];
  const yAxis = svgEl("g", { class: "axis-y" });
  svg.append(yAxis);
  const labels = ticks.map((v) => yAxis.appendChild(svgEl("text", { "text-anchor": "end" }, `${num(v)} ${unit}`)));
  const left = Math.ceil(Math.max(...labels.map((l) => l.getComputedTextLength()))) + 12;
  const t1 = pts[pts.length - 1][0], t0 = Math.min(pts[0][0], t1 - 600);
  const x = (t) => left + (right - left) * (t - t0) / (t1 - t0);
  const y = (v) => top + (bottom - top) * (hi - v) / (hi - lo);
  ticks.forEach((v, i) => {
    labels[i].setAttribute("x", left - 6);
    labels[i].setAttribute("y", y(v) + 4);
    yAxis.prepend(svgEl("line", { class: "grid", x1: left, x2: right, y1: y(v), y2: y(v) }));
  });
  const xAxis = svgEl("g", { class: "axis-x" });
  [[t0, "start"], [(t0 + t1) / 2, "middle"], [t1, "end"]].forEach(([t, anchor]) => {
    xAxis.append(svgEl("line", { class: "tick", x1: x(t), x2: x(t), y1: bottom, y2: bottom + 4 }));
    xAxis.append(svgEl("text", { x: x(t), y: H - 4, "text-anchor": anchor }, hhmm(t)));
  });
  svg.append(xAxis);
  // a gap in sampling (web UI stopped, kit switched off) is a gap in the line
  const steps = pts.slice(1).map((p, i) => p[0] - pts[i][0]).sort((a, b) => a - b);
  const gap = Math.max(300, 5 * (steps[Math.floor(steps.length / 2)] || 0));
  let run = [];
  const flush = () => {
    if (run.length > 1) svg.append(svgEl("polyline", { points: run.join(" ") }));
    run = [];
  };
  pts.forEach(([t, v], i) => {
    if (i && t - pts[i - 1][0] > gap) flush();
    run.push(`${x(t).toFixed(1)},${y(v).toFixed(1)}`);
  });
  flush();
  svg.append(svgEl("circle", { cx: x(t1), cy: y(pts[pts.length - 1][1]), r: 4 }));
}

devicesPage();
