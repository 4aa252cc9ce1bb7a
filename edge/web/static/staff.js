// What the staff pages share (scan, dossiers): their words, errors shown where they belong,
// questions in an in-page dialog, the power line, page thumbnails and the full-size page viewer.
"use strict";
const SW = JSON.parse($("staff-words").dataset.words);
// a word of the staff table with its {placeholders} filled in
function w(key, vars) {
  return (SW[key] || key).replace(/\{(\w+)\}/g, (m, k) => (vars && k in vars ? vars[k] : m));
}
const jobState = (s) => w("state." + s);
const pagesOf = (job) => job.page_list.filter((p) => !p.blank);
// Show a message next to the control that caused it, bring it into view; role=alert announces it.
function say(node, text) {
  show(node, text);
  if (text) node.scrollIntoView({ block: "center" });
}
function clock(t) {
  return new Date(t * 1000).toLocaleTimeString(VI ? "vi-VN" : "en-GB", { hour: "2-digit", minute: "2-digit" });
}

// Ask in the page (not window.confirm): `choices` are [key, label, primary?]; resolves to the key
// pressed, or null when the dialog is closed with Esc.
function ask(title, text, choices) {
  const d = $("ask");
  $("ask-title").textContent = title;
  $("ask-text").textContent = text;
  return new Promise((resolve) => {
    $("ask-buttons").replaceChildren(...choices.map(([key, label, primary]) => {
      const b = el("button", { class: "big" + (primary ? " primary" : ""), "data-choice": key }, label);
      b.onclick = () => { d.close(); resolve(key); };
      return b;
    }));
    d.oncancel = () => resolve(null);
    d.showModal();
  });
}

// The power line: mains (small), on battery with minutes left, or low battery (both loud).
async function power() {
  let p = null;
  try { p = (await api("/api/status")).power; } catch (e) { /* the next poll tries again */ }
  const line = $("power");
  line.hidden = !p;
  if (!p) return;
  line.dataset.state = p.state;
  line.className = "power " + p.state;
  line.textContent = p.state === "mains" ? w("power.mains")
    : p.state === "low" ? w("power.low")
      : p.minutes === null ? w("power.battery_unknown") : w("power.battery", { min: p.minutes });
}
power();
setInterval(power, 10000);

// Thumbnails of a job: content pages numbered as the page count counts them, blank sides apart.
// A tap opens the viewer on that page; `restore(idx)` (optional) puts a blank side back.
function thumbs(job, restore) {
  const content = pagesOf(job), blank = job.page_list.filter((p) => p.blank);
  const tile = (p, label, list, i) => {
    const b = el("button", { class: "thumb" + (p.blank ? " blank" : ""), "data-idx": p.idx,
      "aria-label": label },
    el("img", { src: `/api/jobs/${job.job_id}/pages/${p.idx}/thumb`, alt: "", loading: "lazy" }),
    el("span", {}, label));
    b.onclick = () => viewer(job, list, i);
    return b;
  };
  const box = el("div", { class: "thumbs" },
    ...content.map((p, i) => tile(p, w("page_n", { n: i + 1 }), content, i)));
  if (!blank.length) return [box];
  const apart = el("div", { class: "thumbs blank-pages" }, ...blank.map((p, i) => {
    const name = p.cover ? w("cover_page") : w("blank_n", { n: i + 1 });
    const cell = el("div", { class: "blank-cell" + (p.cover ? " cover" : "") }, tile(p, name, blank, i));
    if (restore) {
      const r = el("button", { class: "restore", "data-idx": p.idx }, w("restore"));
      r.onclick = () => restore(p.idx);
      cell.append(r);
    }
    return cell;
  }));
  const covers = blank.filter((p) => p.cover).length;
  const title = !covers ? "blank_apart" : covers === blank.length ? "cover_apart" : "set_apart";
  return [box, el("p", { class: "blank-title" }, w(title)), apart];
}

// The page viewer: one page at a time from the stored page pictures (phones show no PDF inline).
function viewer(job, list, at) {
  const d = $("viewer");
  let i = at;
  const draw = () => {
    const p = list[i];
    $("viewer-img").src = `/api/jobs/${job.job_id}/pages/${p.idx}/image`;
    $("viewer-img").alt = $("viewer-where").textContent = p.cover ? w("cover_page")
      : p.blank ? w("blank_n", { n: i + 1 })
      : w("page_of", { n: i + 1, total: list.length });
    $("viewer-prev").disabled = i === 0;
    $("viewer-next").disabled = i === list.length - 1;
  };
  $("viewer-close").textContent = w("close");
  $("viewer-prev").textContent = w("prev");
  $("viewer-next").textContent = w("next");
  $("viewer-close").onclick = () => d.close();
  $("viewer-prev").onclick = () => { if (i > 0) { i--; draw(); } };
  $("viewer-next").onclick = () => { if (i < list.length - 1) { i++; draw(); } };
  d.onkeydown = (e) => {
    if (e.key === "ArrowLeft") $("viewer-prev").click();
    if (e.key === "ArrowRight") $("viewer-next").click();
  };
  draw();
  d.showModal();
}
