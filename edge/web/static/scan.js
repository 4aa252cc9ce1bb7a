// The scan page: start a document (a new dossier, or the next document of one), follow it live,
// resume or finish it, look at its pages, rename, mark uploaded. Phone first: what an action
// changes is brought into view, errors stand next to the control that caused them.
"use strict";
const BUSY = ["queued", "scanning", "assembling"];
function scanPage() {
  let scanners = [], preset = "", job = null, source = null, jobs = [], starting = false;
  const ticket = new URLSearchParams(location.search).get("ticket") || "";
  const number = new URLSearchParams(location.search).get("queue") || "";  // the citizen's queue number
  api("/api/scanners").then((d) => {
    scanners = d.scanners;
    scanners.forEach((s) => $("scanner").append(el("option", { value: s.name }, s.label || s.name)));
    drawPresets();
    gate();
  });
  $("scanner").onchange = () => { drawPresets(); gate(); };
  if (ticket) adding();
  refresh();
  setInterval(refresh, 10000);

  // "Đang thêm vào hồ sơ PL01-…": the next document goes into that dossier
  async function adding() {
    $("adding").hidden = false;
    $("dossier-field").hidden = true;
    $("adding-ref").textContent = w("adding", { ref: ticket });
    $("adding-leave").textContent = w("new_dossier");
    try {
      const d = await api(`/api/dossiers/${encodeURIComponent(ticket)}`);
      $("adding-ref").textContent = w("adding", { ref: d.code || d.ticket });
      $("adding-next").textContent = w("adding_next", { n: d.documents.length + 1 });
    } catch (e) { say($("scan-error"), e.message); }
  }
  // the job list: which scanner is busy or holds a paused document, and the open ones to pick
  async function refresh() {
    try { jobs = (await api("/api/jobs")).jobs; } catch (e) { return; }
    const open = jobs.filter((j) => [...BUSY, "paused"].includes(j.state));
    $("open-jobs").hidden = !open.length;
    $("open-list").replaceChildren(...open.map((j) => {
      const b = el("button", { class: "open-job", "data-job": j.job_id },
        `${j.dossier || j.ticket} · ${j.doc} · ${jobState(j.state)}`);
      b.onclick = () => { follow(j.job_id); $("job").scrollIntoView({ block: "start" }); };
      return b;
    }));
    gate();
  }
  const onScanner = (states) => jobs.filter((j) => j.scanner === $("scanner").value && states.includes(j.state));
  function keep(j) { jobs = [...jobs.filter((x) => x.job_id !== j.job_id), j]; gate(); }
  // Quét is off while this scanner is busy (and while a press is on its way)
  function gate() {
    const busy = onScanner(BUSY).length > 0;
    $("start").disabled = busy || starting;
    show($("start-busy"), busy ? w("busy") : "");
  }
  function drawPresets() {
    const s = scanners.find((x) => x.name === $("scanner").value);
    $("presets").replaceChildren();
    $("presets-label").hidden = !(s && s.presets.length);
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
    const paused = onScanner(["paused"])[0];
    if (paused) await decide(paused);
    else await start(false);
  };
  async function start(aside) {
    starting = true;
    gate();
    try {
      const body = { scanner: $("scanner").value, preset, doc: $("doc").value };
      if (ticket) body.ticket = ticket; else body.dossier = $("dossier").value;
      if (number) body.queue = number;
      if (aside) body.paused = "aside";
      const j = await api("/api/jobs", body);
      keep(j);
      follow(j.job_id, j);
      $("job").scrollIntoView({ block: "start" });
    } catch (e) {
      const c = e.data || {};
      if (c.job) keep(c.job);
      if (c.conflict === "paused") { starting = false; await decide(c.job); } else say($("scan-error"), e.message);
    } finally { starting = false; gate(); }
  }
  // a paused document on this scanner: resume it, finish it with what it has, or set it aside
  async function decide(p) {
    const n = pagesOf(p).length || p.pages;
    const choice = await ask(w("paused_title"), w("paused_text", { ref: p.dossier || p.ticket, doc: p.doc,
      n, why: VI ? p.message_vi : p.message }), [["resume", w("paused_resume"), true],
      ["finish", w("paused_finish", { n })], ["aside", w("paused_aside")], ["back", w("back")]]);
    if (choice === "resume" || choice === "finish") {
      follow(p.job_id, p);
      $("job").scrollIntoView({ block: "start" });
      await act(choice);
    } else if (choice === "aside") await start(true);
  }
  function follow(id, first) {
    if (source) source.close();
    $("thumbs").replaceChildren();
    job = null;
    if (first) draw(first);
    source = live(`/api/jobs/${id}/events`, `/api/jobs/${id}`, draw);
  }
  function draw(j) {
    const moved = !job || job.state !== j.state || job.page_list.length !== j.page_list.length;
    job = j;
    keep(j);
    $("job").hidden = false;
    $("job").dataset.job = j.job_id;
    $("job-ticket").textContent = j.dossier || j.ticket;
    $("job-doc").textContent = j.seq ? `${w("doc_n", { n: j.seq })}: ${j.doc}` : j.doc;
    $("job-state").textContent = jobState(j.state);
    $("job-state").dataset.state = j.state;
    $("page-count").textContent = pagesOf(j).length;
    show($("job-message"), j.state === "paused" || j.state === "failed" ? (VI ? j.message_vi : j.message) : "");
    $("resume").hidden = $("finish").hidden = j.state !== "paused";
    if (moved) $("thumbs").replaceChildren(...thumbs(j, (idx) => act("restore", { pages: [idx] })));
    const ready = j.state === "ready" || j.state === "uploaded";
    $("result").hidden = !ready;
    if (ready && j.files.length) {
      $("pdf-name").textContent = j.files[0].name;
      $("pdf-size").textContent = size(j.bytes);
      $("pdf-pages").textContent = w("pages_n", { n: j.pages });
      $("download").href = `/api/jobs/${j.job_id}/files/1`;
      $("uploaded").disabled = j.state === "uploaded";
      $("rename").parentElement.hidden = !!j.dossier;  // the code is given once, for the dossier
      $("scan-next").textContent = w("scan_next");
      $("scan-next").href = `/scan?ticket=${encodeURIComponent(j.ticket)}`;
      $("open-dossier").textContent = w("open_dossier");
      $("open-dossier").href = `/dossiers?q=${encodeURIComponent(j.ticket)}`;
    }
    if (moved && (j.state === "paused" || j.state === "failed")) $("job-message").scrollIntoView({ block: "center" });
    if (moved && ready) $("result").scrollIntoView({ block: "center" });
  }
  // an action on the followed job; its error stands next to `where` (the job's message line)
  async function act(action, body, where) {
    const out = where || $("job-message");
    try {
      draw(await api(`/api/jobs/${job.job_id}/${action}`, body || {}));
      follow(job.job_id, job);
      return true;
    } catch (e) { say(out, e.message); return false; }
  }
  $("resume").onclick = () => act("resume");
  // every paused document was interrupted (jam, empty feeder, power): finishing asks first
  $("finish").onclick = async () => {
    const n = pagesOf(job).length;
    const ok = await ask(w("finish_title"), w("finish_text", { n }),
      [["finish", w("finish_yes", { n }), true], ["back", w("back")]]);
    if (ok === "finish") await act("finish");
  };
  $("uploaded").onclick = async () => {
    if (await act("uploaded", {}, $("rename-error"))) say($("result-note"), w("marked_uploaded"));
  };
  $("rename").onclick = async () => {
    show($("rename-error"), "");
    if (await act("rename", { dossier: $("rename-code").value }, $("rename-error"))) say($("result-note"), w("code_saved"));
  };
}

scanPage();
