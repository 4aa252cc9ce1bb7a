// The day in the field: the visit page, reception (give numbers), calling numbers per area, and
// the room's display. Words come from QUEUE_WORDS (#queue-words); live parts from SSE (app.js).
"use strict";
const QW = JSON.parse($("queue-words").dataset.words);
const qw = (key, vars) => Object.entries(vars || {}).reduce(
  (s, [k, v]) => s.replaceAll(`{${k}}`, v), QW[key] || key);
const hhmm = (ts) => new Date(ts * 1000).toLocaleTimeString(VI ? "vi-VN" : "en-GB",
  { hour: "2-digit", minute: "2-digit" });
const areaName = (a) => qw(`area.${a}`);
function say(node, text, kind) {
  show(node, text);
  if (kind !== undefined) node.className = `notice ${kind}`;
  if (text) node.scrollIntoView({ block: "nearest" });
}
function noVisit(visit) { $("no-visit").hidden = !!visit; }

// ---------------------------------------------------------------- visit: start and end
function visitPage() {
  let places = [];
  const draw = (d) => {
    places = d.places;
    noVisit(true);
    $("visit-open").hidden = !d.visit;
    $("visit-form").hidden = !!d.visit;
    if (d.visit) {
      $("visit-status").textContent = qw("visit_open", { place: d.visit.place, time: hhmm(d.visit.started) });
      $("visit-counts").textContent = qw("visit_counts", d.queue);
    } else if (!$("place").options.length) {
      $("place").append(...places.map((p) => el("option", { value: p.name }, p.name)),
        el("option", { value: "" }, qw("visit_other")));
      pick();
    }
  };
  const pick = () => {
    const p = places.find((x) => x.name === $("place").value);
    $("typed-wrap").hidden = !!p;
    $("venue").value = p ? p.venue : "";
  };
  $("place").onchange = pick;
  $("visit-form").onsubmit = async (ev) => {
    ev.preventDefault();
    const place = $("place").value || $("typed").value;
    try {
      draw(await api("/api/visit/start", { place, venue: $("venue").value }));
      say($("visit-error"), "");
      say($("visit-result"), "");
    } catch (e) { say($("visit-error"), e.message); }
  };
  if ($("visit-end")) {
    $("visit-end").onclick = async () => {
      const d = await api("/api/visit");
      $("end-ask-text").textContent = qw("visit_end_ask", { place: d.visit.place });
      $("end-ask").hidden = false; $("visit-end").hidden = true;
      $("end-ask").scrollIntoView({ block: "nearest" });
    };
    $("end-no").onclick = () => { $("end-ask").hidden = true; $("visit-end").hidden = false; };
    $("end-yes").onclick = async () => {
      try {
        const d = await api("/api/visit/end", {});
        $("end-ask").hidden = true; $("visit-end").hidden = false;
        draw(d);
        say($("visit-result"), qw("visit_ended", { place: d.ended.place, time: hhmm(d.ended.ended),
          done: d.totals.served, left: d.totals.left }));
      } catch (e) { say($("visit-error"), e.message); }
    };
  }
  api("/api/visit").then(draw).catch((e) => say($("visit-error"), e.message));
}

// ---------------------------------------------------------------- reception: give numbers
function receptionPage() {
  let area = "", priority = "";
  const press = (box, attr, value) => box.querySelectorAll(".choice").forEach((b) =>
    b.setAttribute("aria-pressed", String(b.dataset[attr] === value)));
  $("areas").onclick = (ev) => {
    const b = ev.target.closest(".choice"); if (!b) return;
    area = b.dataset.area; press($("areas"), "area", area); $("issue").disabled = false;
  };
  $("priorities").onclick = (ev) => {
    const b = ev.target.closest(".choice"); if (!b) return;
    priority = b.dataset.priority; press($("priorities"), "priority", priority);
  };
  $("issue").onclick = async () => {
    $("issue").disabled = true;
    try {
      const d = await api("/api/queue", { area, priority });
      const e = d.entry;
      $("issued-n").textContent = e.n;
      $("issued-area").textContent = qw("issued_to", { area: areaName(e.area) });
      show($("issued-priority"), e.priority ? `${qw("priority_mark")}: ${qw(`priority.${e.priority}`)}` : "");
      $("issued-slip").textContent = VI ? d.slip.message_vi : d.slip.message;
      $("issued-slip").className = `notice ${d.slip.state === "printed" ? "printed" : d.slip.state === "queued" ? "queued" : "error"}`;
      $("issued-preview").src = `/api/queue/${e.id}/slip.png`;
      $("issued").hidden = false;
      say($("issue-error"), "");
      area = ""; priority = ""; press($("areas"), "area", null); press($("priorities"), "priority", "");
      $("issued").scrollIntoView({ block: "start" });  // the slip picture grows it downwards
    } catch (e) { say($("issue-error"), e.message); $("issue").disabled = false; }
  };
  const draw = (d) => {
    noVisit(d.visit);
    $("issue-card").hidden = !d.visit;  // no number without a visit: start it first
    $("visit-line").textContent = d.visit ? qw("visit_open", { place: d.visit.place, time: hhmm(d.visit.started) }) : "";
    document.querySelectorAll("[data-count]").forEach((n) => {
      n.textContent = qw("waiting_n", { n: d.counts[n.dataset.count] });
    });
  };
  live("/api/queue/events", "/api/queue", draw);
}

// ---------------------------------------------------------------- staff: call numbers
function queuePage() {
  const saved = localStorage.getItem("edge-area");
  if (saved) $("area").value = saved;
  let stream = null;
  const area = () => $("area").value;
  const listen = () => {
    if (stream) stream.close();
    drawn = "";
    stream = live(`/api/queue/events?area=${area()}`, `/api/queue?area=${area()}`, draw);
  };
  $("area").onchange = () => { localStorage.setItem("edge-area", area()); say($("queue-result"), ""); listen(); };
  $("call-next").onclick = async () => {
    try {
      const d = await api("/api/queue/next", { area: area() });
      draw(d);
      if (!d.call) say($("queue-result"), qw("nobody"), "queued");
      else {
        show($("queue-result"), qw("called_n", { n: d.call.n })); $("queue-result").className = "notice printed";
        $("called").firstElementChild.scrollIntoView({ block: "nearest" });
      }
    } catch (e) { say($("queue-result"), e.message, "error"); }
  };
  async function act(entry, action, key) {
    try {
      draw(await api(`/api/queue/${entry.id}/${action}?area=${area()}`, {}));
      say($("queue-result"), qw(key, { n: entry.n }), "printed");
    } catch (e) { say($("queue-result"), e.message, "error"); }
  }
  const meta = (e) => [e.priority ? `${qw("priority_mark")}: ${qw(`priority.${e.priority}`)}` : "",
    qw("issued_at", { time: hhmm(e.issued) })].filter(Boolean).join(" · ");
  function card(e) {
    const c = $("called-card").content.firstElementChild.cloneNode(true);
    c.querySelector(".number").textContent = e.n;
    c.querySelector(".meta").textContent = meta(e);
    show(c.querySelector(".scanned"), e.ticket ? qw("scanned", { ticket: e.ticket }) : "");
    c.querySelector(".scan-for").href = e.ticket ? `/scan?ticket=${encodeURIComponent(e.ticket)}&queue=${e.id}` : `/scan?queue=${e.id}`;
    c.querySelector(".done").onclick = () => act(e, "done", "done_n");
    c.querySelector(".recall").onclick = () => act(e, "recall", "recalled_n");
    c.querySelector(".left").onclick = () => act(e, "left", "left_n");
    c.dataset.n = e.n;
    return c;
  }
  let drawn = "";
  function draw(d) {  // the same view again (the stream after an action's answer): keep the nodes
    const now = JSON.stringify([d.visit, d.called, d.waiting]);
    if (now === drawn) return;
    drawn = now;
    noVisit(d.visit);
    $("called").replaceChildren(...d.called.map(card));
    $("waiting-n").textContent = d.waiting.length;
    $("waiting").replaceChildren(...d.waiting.map((e) => {
      const gone = el("button", { class: "left" }, qw("left_short"));
      gone.onclick = () => act(e, "left", "left_n");
      return el("li", { class: e.priority ? "priority" : "", "data-n": e.n },
        el("b", {}, String(e.n)), el("span", {}, meta(e)), gone);
    }));
  }
  listen();
}

// ---------------------------------------------------------------- the room's display
function displayPage() {
  let last = null;
  const tick = () => { $("clock").textContent = hhmm(Date.now() / 1000); };
  tick(); setInterval(tick, 10000);
  live("/api/queue/display/events", "/api/queue/display", (d) => {
    $("display-place").textContent = d.visit ? [d.visit.place, d.visit.venue].filter(Boolean).join(" · ") : "";
    const now = d.calls[0];
    $("now-n").textContent = now ? now.n : "–";
    $("now-area").textContent = now ? areaName(now.area) : qw("none_called");
    const key = now ? `${now.n}@${now.at}` : null;
    if (key && key !== last && last !== null) {  // a new call (or a recall): make it seen
      $("now").classList.remove("flash"); void $("now").offsetWidth; $("now").classList.add("flash");
    }
    last = key;
    document.querySelectorAll(".area-card").forEach((c) => {
      const call = d.calls.find((x) => x.area === c.dataset.area);
      c.querySelector(".area-n").textContent = call ? call.n : "–";
      c.querySelector(".area-waiting").textContent = qw("waiting_n", { n: d.waiting[c.dataset.area] });
    });
    $("recent").replaceChildren(...d.calls.slice(1).map((x) =>
      el("li", {}, el("b", {}, String(x.n)), el("span", {}, areaName(x.area)))));
  });
}

({ visit: visitPage, reception: receptionPage, queue: queuePage, display: displayPage })[document.body.dataset.page]();
