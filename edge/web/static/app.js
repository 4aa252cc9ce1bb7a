// What every page shares: the JSON API, element helpers, live views (SSE), state words. No framework.
"use strict";
const $ = (id) => document.getElementById(id);
const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const VI = document.body.dataset.lang === "vi";
const NUM = new Intl.NumberFormat(VI ? "vi-VN" : "en-GB", { maximumFractionDigits: 1 });
const num = (v) => NUM.format(v);

async function api(path, body) {
  const opts = body === undefined ? {} : {
    method: "POST", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF } };
  const r = await fetch(path, opts);
  const data = await r.json();
  if (!r.ok) {  // the message in the page's language; the whole answer (a 409's job...) in .data
    throw Object.assign(new Error(VI ? data.error_vi : data.error), { status: r.status, data });
  }
  return data;
}
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => k === "class" ? e.className = v : e.setAttribute(k, v));
  kids.forEach((k) => e.append(k));
  return e;
}
function show(node, text) { node.hidden = !text; node.textContent = text || ""; }
// A live view: Server-Sent Events from `url`. When the server refuses the stream (429: too many
// live views open, 401: logged out) the browser gives up on it; then the refusal is shown, `poll`
// fetches the data every SLOW ms, and the stream is tried again.
const SLOW = 10000;
function live(url, poll, onData) {
  let source = null, timer = null;
  const open = () => {
    source = new EventSource(url);
    source.onopen = () => show($("live-notice"), "");
    source.onmessage = (ev) => onData(JSON.parse(ev.data));
    source.onerror = () => { if (source.readyState === EventSource.CLOSED) refused(); };
  };
  const refused = async () => {
    const stop = new AbortController();
    try {
      const r = await fetch(url, { signal: stop.signal });
      if (!r.ok) { const d = await r.json(); show($("live-notice"), VI ? d.error_vi : d.error); }
    } catch (e) { /* offline: the next try says so */ }
    stop.abort();
    timer = setTimeout(async () => {
      try { onData(await api(poll)); } catch (e) { show($("live-notice"), e.message); }
      open();
    }, SLOW);
  };
  open();
  return { close: () => { clearTimeout(timer); source.close(); } };
}
const STATES = { queued: "đang chờ", scanning: "đang quét", paused: "tạm dừng",
  assembling: "đang tạo PDF", ready: "xong", uploaded: "đã nộp", failed: "lỗi",
  ok: "tốt", warning: "cảnh báo", fault: "hỏng", absent: "không thấy", unknown: "không rõ" };
function stateText(s) { return VI ? STATES[s] || s : s; }
function size(n) {
  return n > 1073741824 ? num(n / 1073741824) + " GB"
    : n > 1048576 ? num(n / 1048576) + " MB" : Math.ceil(n / 1024) + " KB";
}
