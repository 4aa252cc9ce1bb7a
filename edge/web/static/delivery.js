// The technician's page, "sending to the commune office": each [[delivery]] target, what was
// sent today, what waits and why, why it fails and when it tries again; "try again now".
// Words from i18n.py (#delivery data-words); the target's name stays in data-target.
"use strict";
function deliverySection() {
  const box = $("delivery");
  if (!box) return;
  const D = JSON.parse(box.dataset.words);
  const say = (key, vars) => Object.entries(vars || {}).reduce((s, [k, v]) => s.replaceAll(`{${k}}`, v), D[key] || key);
  const ago = (s) => s < 60 ? say("seconds", { n: Math.round(s) }) : s < 3600 ? say("minutes", { n: Math.round(s / 60) })
    : s < 86400 ? say("hours", { n: num(s / 3600) }) : say("days", { n: num(s / 86400) });
  const at = (t) => new Date(t * 1000).toLocaleTimeString(VI ? "vi-VN" : "en-GB", { hour: "2-digit", minute: "2-digit" });

  function card(t) {
    const lines = [say("waiting_n", { n: t.waiting_files, size: size(t.waiting_bytes) })];
    if (t.waiting_files) lines.push(say("oldest", { age: ago(t.oldest_waiting_seconds) }));
    lines.push(say("today", { n: t.sent_today_files, size: size(t.sent_today_bytes) }));
    if (t.budget_bytes) lines.push(say("budget", { size: size(t.budget_bytes) }));
    const c = el("section", { class: `card target ${t.state}`, "data-target": t.name, "data-state": t.state },
      el("h3", {}, t.label, " ", el("span", { class: `tag ${t.state === "ok" ? "good" : t.state === "failing" ? "bad" : ""}` },
        say("state." + t.state))),
      ...lines.map((l) => el("p", {}, l)));
    if (t.state === "waiting" && t.reason) c.append(el("p", { class: "note" }, say("why." + t.reason)));
    if (t.state === "failing") {
      c.append(el("p", { class: "error" }, VI ? t.error_vi : t.error));
      if (t.next_try) c.append(el("p", {}, say("next_try", { time: at(t.next_try) })));
    }
    return c;
  }

  async function load(action) {
    let v;
    try {
      v = await api("/api/delivery" + (action ? "/retry" : ""), action ? {} : undefined);
    } catch (e) { show($("delivery-error"), e.message); return; }
    show($("delivery-error"), "");
    box.replaceChildren(...v.targets.map(card));
    $("delivery-retry").hidden = !v.targets.some((t) => t.state !== "ok");
    if (action) show($("delivery-done"), say("retrying"));
  }
  $("delivery-retry").onclick = () => load("retry");
  load();
  setInterval(() => load(), 15000);
}
deliverySection();
