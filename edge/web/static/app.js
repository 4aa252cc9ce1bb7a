// The live parts of the pages, from the JSON API and its Server-Sent Events. No framework.
"use strict";
const $ = (id) => document.getElementById(id);
const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const VI = document.body.dataset.lang === "vi";

async function api(path, body) {
  const opts = body === undefined ? {} : {
    method: "POST", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF } };
  const r = await fetch(path, opts);
  const data = await r.json();
  if (!r.ok) throw new Error(VI ? data.error_vi : data.error);
  return data;
}
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => k === "class" ? e.className = v : e.setAttribute(k, v));
  kids.forEach((k) => e.append(k));
  return e;
}
function show(node, text) { node.hidden = !text; node.textContent = text || ""; }
const STATES = { queued: "đang chờ", scanning: "đang quét", paused: "tạm dừng",
  assembling: "đang tạo PDF", ready: "xong", uploaded: "đã nộp", failed: "lỗi",
  ok: "tốt", warning: "cảnh báo", fault: "hỏng", absent: "không thấy", unknown: "không rõ" };
function stateText(s) { return VI ? `${STATES[s] || s} (${s})` : s; }
function size(n) {
  return n > 1073741824 ? (n / 1073741824).toFixed(1) + " GB"
    : n > 1048576 ? (n / 1048576).toFixed(1) + " MB" : Math.ceil(n / 1024) + " KB";
}

// ---------------------------------------------------------------- staff: scan
function scanPage() {
  let scanners = [], preset = "", job = null, source = null;
  const i18n = $("i18n").dataset;
  api("/api/scanners").then((d) => {
    scanners = d.scanners;
    scanners.forEach((s) => $("scanner").append(el("option", { value: s.name }, s.name)));
    drawPresets();
  });
  $("scanner").onchange = drawPresets;
  api("/api/jobs").then((d) => {
    const open = d.jobs.filter((j) => ["queued", "scanning", "paused", "assembling"].includes(j.state));
    $("open-jobs").hidden = !open.length;
    $("open-list").replaceChildren(...open.map((j) => {
      const b = el("button", { class: "open-job", "data-job": j.job_id },
        `${j.dossier || j.ticket} · ${j.doc} · ${stateText(j.state)}`);
      b.onclick = () => follow(j.job_id);
      return b;
    }));
  });
  function drawPresets() {
    const s = scanners.find((x) => x.name === $("scanner").value);
    $("presets").replaceChildren();
    (s ? s.presets : []).forEach((p) => {
      const b = el("button", { class: "big preset", "data-preset": p.name }, p.label);
      b.onclick = () => {
        preset = p.name; $("doc").value = p.doc || p.label;
        document.querySelectorAll(".preset").forEach((x) => x.classList.toggle("selected", x === b));
      };
      $("presets").append(b);
    });
  }
  $("start").onclick = async () => {
    show($("scan-error"), "");
    try {
      const j = await api("/api/jobs", { scanner: $("scanner").value, preset,
        doc: $("doc").value, dossier: $("dossier").value });
      follow(j.job_id);
    } catch (e) { show($("scan-error"), e.message); }
  };
  function follow(id) {
    if (source) source.close();
    source = new EventSource(`/api/jobs/${id}/events`);
    source.onmessage = (ev) => draw(JSON.parse(ev.data));
  }
  function draw(j) {
    job = j;
    $("job").hidden = false;
    $("job-ticket").textContent = j.dossier || j.ticket;
    $("job-doc").textContent = j.doc;
    $("job-state").textContent = stateText(j.state);
    $("job-state").dataset.state = j.state;
    $("page-count").textContent = j.page_list.filter((p) => !p.blank).length;
    show($("job-message"), j.state === "paused" || j.state === "failed" ? (VI ? j.message_vi : j.message) : "");
    $("resume").hidden = $("finish").hidden = j.state !== "paused";
    const have = new Set([...$("thumbs").children].map((c) => c.dataset.key));
    j.page_list.forEach((p) => {
      const key = `${p.idx}-${p.blank}`;
      if (have.has(key)) return;
      const old = $("thumbs").querySelector(`[data-idx="${p.idx}"]`);
      const box = el("div", { class: "thumb" + (p.blank ? " blank" : ""), "data-idx": p.idx, "data-key": key },
        el("img", { src: `/api/jobs/${j.job_id}/pages/${p.idx}/thumb`, alt: `p${p.idx}`, loading: "lazy" }),
        `${p.idx}${p.blank ? " · " + i18n.blank : ""}`);
      if (p.blank) {
        const b = el("button", { class: "restore" }, i18n.restore);
        b.onclick = () => act("restore", { pages: [p.idx] });
        box.append(b);
      }
      old ? old.replaceWith(box) : $("thumbs").append(box);
    });
    const ready = j.state === "ready" || j.state === "uploaded";
    $("result").hidden = !ready;
    if (ready && j.files.length) {
      const f = j.files[0];
      $("pdf-name").textContent = f.name;
      $("pdf-size").textContent = size(j.bytes);
      $("pdf-pages").textContent = `${j.pages} p`;
      $("download").href = `/api/jobs/${j.job_id}/files/1`;
      $("uploaded").disabled = j.state === "uploaded";
    }
  }
  async function act(action, body) {
    try { draw(await api(`/api/jobs/${job.job_id}/${action}`, body || {})); follow(job.job_id); }
    catch (e) { show($("job-message"), e.message); }
  }
  $("resume").onclick = () => act("resume");
  $("finish").onclick = () => act("finish");
  $("uploaded").onclick = () => act("uploaded");
  $("rename").onclick = () => act("rename", { dossier: $("rename-code").value });
}

// ---------------------------------------------------------------- technicians: devices
const METRICS = ["battery.charge", "battery.runtime", "ups.status", "input.voltage", "ups.load",
  "signal.rsrp", "signal.sinr", "network.operator", "supply.black_toner", "system.cpu_temp",
  "system.disk_free_mb"];
function bars(rsrp) {
  const n = rsrp >= -85 ? 4 : rsrp >= -95 ? 3 : rsrp >= -105 ? 2 : rsrp >= -115 ? 1 : 0;
  return "▮".repeat(n) + "▯".repeat(4 - n);
}
function metricText(m) {
  if (m.unit === "B" && typeof m.value === "number") return size(m.value);
  const v = typeof m.value === "number" && !Number.isInteger(m.value) ? m.value.toFixed(1) : m.value;
  return `${v}${m.unit ? " " + m.unit : ""}`;
}
function devicesPage() {
  const source = new EventSource("/api/events/status");
  source.onmessage = (ev) => drawDevices(JSON.parse(ev.data));
  charts();
  setInterval(charts, 30000);
}
function drawDevices(v) {
  $("on-battery").hidden = !v.on_battery;
  $("no-service").hidden = v.service;
  $("devices").replaceChildren(...v.devices.map((d) => {
    const box = el("section", { class: `card device ${d.state}`, "data-device": `${d.kind}-${d.name}` },
      el("h2", {}, `${d.kind} ${d.name} — ${stateText(d.state)}`));
    const m = d.metrics;
    if (m["battery.charge"]) box.append(el("meter", { min: 0, max: 100, value: m["battery.charge"].value }));
    if (m["signal.bars"] || m["signal.rsrp"]) box.append(el("div", { class: "bars" },
      m["signal.bars"] ? "▮".repeat(m["signal.bars"].value) + "▯".repeat(Math.max(0, 5 - m["signal.bars"].value))
        : bars(m["signal.rsrp"].value)));
    const keys = Object.keys(m);
    keys.sort((a, b) => (METRICS.includes(b) - METRICS.includes(a)));
    keys.forEach((k) =>
      box.append(el("div", { class: "metric", "data-metric": k }, el("span", {}, k),
        el("b", {}, metricText(m[k])))));
    d.problems.forEach((p) => box.append(el("p", { class: "error" }, VI ? p.vi : p.en)));
    return box;
  }));
}
async function charts() {
  const box = $("charts");
  const d = await api("/api/history?hours=6");
  const want = [["battery.charge", box.dataset.battery], ["signal.rsrp", box.dataset.signal],
    ["system.cpu_temp", box.dataset.temp]];
  box.replaceChildren();
  Object.entries(d.series).forEach(([name, pts]) => {
    const w = want.find(([k]) => name.endsWith(k));
    if (!w || pts.length < 1) return;
    if (pts.length === 1) pts = [pts[0], [pts[0][0] + 1, pts[0][1]]];
    const ys = pts.map((p) => p[1]), lo = Math.min(...ys), hi = Math.max(...ys);
    const t0 = pts[0][0], t1 = Math.max(pts[pts.length - 1][0], t0 + 1);
    const xy = pts.map(([t, y]) => `${(300 * (t - t0) / (t1 - t0)).toFixed(1)},${(95 - 90 * (y - lo) / ((hi - lo) || 1)).toFixed(1)}`);
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 300 100"); svg.setAttribute("class", "chart");
    svg.setAttribute("preserveAspectRatio", "none");
    const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
    line.setAttribute("points", xy.join(" "));
    svg.append(line);
    box.append(el("section", { class: "card" }, el("h3", {}, `${w[1]} (${name.split(".").slice(0, 2).join(" ")}): ${lo}–${hi}`), svg));
  });
}

// ---------------------------------------------------------------- volunteers: slips
function receiptsPage() {
  let templates = [];
  api("/api/receipts/templates").then((d) => {
    templates = d.templates;
    templates.forEach((t) => $("template").append(el("option", { value: t.name }, t.title || t.name)));
    drawForm();
  });
  $("template").onchange = drawForm;
  function drawForm() {
    const t = templates.find((x) => x.name === $("template").value);
    $("slip-form").replaceChildren(...(t ? t.fields : []).map((f) => {
      let input;
      if (f.kind === "choice") {
        input = el("select", { name: f.name }, el("option", { value: "" }, "—"),
          ...Object.entries(f.choices).map(([k, v]) => el("option", { value: k }, v)));
      } else {
        input = el("input", { name: f.name, maxlength: f.max_length,
          placeholder: f.kind === "date" ? "dd/mm/yyyy" : f.kind === "ticket" ? "PL01-261122-007" : "" });
      }
      return el("label", {}, f.label + (f.required ? " *" : ""), input);
    }));
  }
  function body() {
    const fields = {};
    new FormData($("slip-form")).forEach((v, k) => { fields[k] = v; });
    return { template: $("template").value, fields };
  }
  $("preview").onclick = async () => {
    try {
      const d = await api("/api/receipts/preview", body());
      $("slip-preview").src = "data:image/png;base64," + d.png; $("slip-preview").hidden = false;
      show($("print-result"), "");
    } catch (e) { show($("print-result"), e.message); }
  };
  $("print").onclick = async () => {
    $("print").disabled = true;
    try {
      const d = await api("/api/receipts/print", body());
      $("print-result").dataset.state = d.state;
      show($("print-result"), `${d.state}${d.ticket ? " · " + d.ticket : ""}${d.message ? " — " + (VI ? d.message_vi : d.message) : ""}`);
    } catch (e) { $("print-result").dataset.state = "error"; show($("print-result"), e.message); }
    $("print").disabled = false;
  };
}

({ scan: scanPage, devices: devicesPage, receipts: receiptsPage }[document.body.dataset.page] || (() => {}))();
