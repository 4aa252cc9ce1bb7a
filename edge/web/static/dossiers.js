// The staff home: today's dossiers, newest first. Each says its state and what is left to do,
// lists its documents with their pages; from here staff scan the next document into it, give it
// the portal's code once, mark it uploaded, download a file or the whole dossier, look at a page.
"use strict";
function dossiersPage() {
  const params = new URLSearchParams(location.search);
  const filters = { pending: false, today: !params.get("q") };
  let shown = {};  // ticket -> the JSON its card was drawn from
  $("q").value = params.get("q") || "";
  $("new-dossier").textContent = w("new_dossier");
  const press = (b, key) => {
    b.setAttribute("aria-pressed", filters[key]);
    b.onclick = () => { filters[key] = !filters[key]; b.setAttribute("aria-pressed", filters[key]); load(); };
  };
  press($("filter-pending"), "pending");
  press($("filter-today"), "today");
  let typing = null;
  $("q").oninput = () => { clearTimeout(typing); typing = setTimeout(load, 300); };
  $("search").onsubmit = (e) => { e.preventDefault(); load(); };

  async function load() {
    const q = new URLSearchParams({ q: $("q").value.trim() });
    if (filters.pending) q.set("pending", "1");
    if (filters.today) q.set("today", "1");
    $("list-title").textContent = w(filters.today ? "title.today" : "title.all");
    let list;
    try { list = (await api(`/api/dossiers?${q}`)).dossiers; } catch (e) { say($("list-error"), e.message); return; }
    show($("list-error"), "");
    const none = $("q").value.trim() ? "search_none" : filters.pending ? "pending_none" : "today_none";
    show($("list-empty"), list.length ? "" : w(none));
    const box = $("dossiers"), next = {};
    const cards = list.map((d) => {
      const json = JSON.stringify(d), old = box.querySelector(`[data-ticket="${d.ticket}"]`);
      next[d.ticket] = json;
      return old && shown[d.ticket] === json ? old : card(d, old);
    });
    shown = next;
    box.replaceChildren(...cards);
    clearTimeout(load.timer);  // faster while something is being scanned
    load.timer = setTimeout(load, list.some((d) => d.state === "scanning") ? 3000 : 20000);
  }

  function card(d, old) {
    const c = $("dossier-card").content.firstElementChild.cloneNode(true);
    const $$ = (sel) => c.querySelector(sel);
    c.dataset.ticket = d.ticket;
    c.dataset.state = d.state;
    c.classList.add(d.state);
    $$(".ref").textContent = d.code || d.ticket;
    $$(".state").textContent = w("dstate." + d.state);
    const bits = [w("at", { time: clock(d.created) }), w("docs_n", { n: d.documents.length }),
      w("pages_n", { n: d.pages })];
    if (d.code) bits.unshift(d.ticket);
    $$(".meta").textContent = bits.join(" · ");
    $$(".todo").textContent = `${w("todo")}: ` + (d.todo.length ? d.todo.map((t) => w("todo." + t)).join("; ")
      : w("todo.none"));
    $$(".todo").classList.toggle("nothing", !d.todo.length);
    const sent = (d.delivery || []).filter((x) => x.state !== "none");
    $$(".delivery").replaceChildren(...sent.map(deliveryItem));
    $$(".delivery").hidden = !sent.length;
    $$(".documents").replaceChildren(...d.documents.map((j) => documentItem(j, !d.uploaded)));
    $$(".scan-next").textContent = w("scan_next");
    $$(".scan-next").href = `/scan?ticket=${encodeURIComponent(d.ticket)}`;
    $$(".scan-next").hidden = d.uploaded;
    $$(".zip").href = `/api/dossiers/${encodeURIComponent(d.ticket)}/export`;
    $$(".zip").hidden = !d.documents.some((j) => j.files.length);
    $$(".give-code").hidden = !!d.code;
    if (old && !d.code) $$(".code").value = old.querySelector(".code").value;  // typed, kept
    $$(".mark-uploaded").hidden = d.uploaded;
    $$(".mark-uploaded").disabled = !d.todo.includes("upload") || d.state !== "ready";
    $$(".save-code").onclick = () => act(c, d, "rename", { dossier: $$(".code").value }, "code_saved");
    $$(".mark-uploaded").onclick = () => act(c, d, "uploaded", {}, "marked_uploaded");
    return c;
  }

  // where the dossier has gone: per target (its label), sent, waiting and why, or why not
  function deliveryItem(x) {
    const why = x.state === "waiting" ? ` (${w("delivery.why." + x.reason)})`
      : x.state === "failing" ? ` (${w("delivery.fail." + x.reason)})` : "";
    return el("li", { class: x.state, "data-target": x.target, "data-state": x.state },
      `${x.label}: ${w("delivery." + x.state)}${why}`);
  }

  // a document: its pages folded away once the dossier is uploaded (the list stays short)
  function documentItem(j, open) {
    const files = j.files.map((f, i) => el("a", { class: "button download", href: `/api/jobs/${j.job_id}/files/${i + 1}`,
      "data-file": f.name }, j.files.length > 1 ? `${w("download_pdf")} (${i + 1})` : w("download_pdf")));
    return el("li", { class: "document", "data-job": j.job_id, "data-state": j.state },
      el("p", {}, el("b", {}, `${w("doc_n", { n: j.seq })}: ${j.doc}`), " · ",
        w("pages_n", { n: j.pages }), " · ", el("span", { class: "doc-state" }, jobState(j.state))),
      el("details", open ? { open: "" } : {}, el("summary", {}, w("show_pages", { n: pagesOf(j).length })),
        ...thumbs(j)), el("div", { class: "buttons" }, ...files), ...splitControls(j));
  }

  // a document split from a stack at a cover sheet: undo the split or move it by a page
  function splitControls(j) {
    if (!j.batch || j.batch === j.job_id) return [];
    const note = el("p", { class: "note split-note" }, w("split_from_cover"));
    if (j.state !== "ready") return [note];
    const button = (cls, key, run) => {
      const b = el("button", { class: cls }, w(key));
      b.onclick = run;
      return b;
    };
    const fix = (action, body) => (e) => {
      const c = e.target.closest(".dossier");
      act(c, { ticket: c.dataset.ticket }, null, body, "split_changed", `/api/splits/${j.job_id}/${action}`);
    };
    return [note, el("div", { class: "buttons split" },
      button("split-undo", "split_undo", async (e) => {
        const target = e.target;
        const ok = await ask(w("split_ask", { doc: j.doc }), w("split_ask_text"),
          [["yes", w("split_yes"), true], ["back", w("back")]]);
        if (ok === "yes") fix("undo", {})({ target });
      }),
      button("split-later", "split_later", fix("move", { pages: 1 })),
      button("split-earlier", "split_earlier", fix("move", { pages: -1 })))];
  }

  // rename / mark uploaded: the result (or the refusal) stands at the bottom of the card
  async function act(c, d, action, body, done, url) {
    const error = c.querySelector(".card-error");
    show(error, "");
    try {
      const fresh = await api(url || `/api/dossiers/${encodeURIComponent(d.ticket)}/${action}`, body);
      const nc = card(fresh, c);
      shown[fresh.ticket] = JSON.stringify(fresh);
      c.replaceWith(nc);
      say(nc.querySelector(".card-done"), w(done));
    } catch (e) { say(error, e.message); }
  }
  load();
}

dossiersPage();
