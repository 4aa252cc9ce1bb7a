// The scan page: start a job, follow it live, resume, finish, rename, mark uploaded.
"use strict";
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
    try {
      const j = await api("/api/jobs", { scanner: $("scanner").value, preset,
        doc: $("doc").value, dossier: $("dossier").value });
      follow(j.job_id);
    } catch (e) { show($("scan-error"), e.message); }
  };
  function follow(id) {
    if (source) source.close();
    source = live(`/api/jobs/${id}/events`, `/api/jobs/${id}`, draw);
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

scanPage();
