// The volunteers' page: fill a slip, preview it, print it.
"use strict";
// ---------------------------------------------------------------- volunteers: slips
const KEEP = ["staff", "place"];  // fields about the kit's day, not the citizen: kept after a print
function receiptsPage() {
  let templates = [], tickets = [];
  const ticketOptions = () => tickets.map((k) =>
    el("option", { value: k.ticket }, [k.doc, k.dossier].filter(Boolean).join(" · ")));
  api("/api/receipts/tickets").then((d) => {  // typed values stay: only the list is redrawn
    tickets = d.tickets; if ($("tickets")) $("tickets").replaceChildren(...ticketOptions());
  });
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
          placeholder: f.kind === "date" ? $("print-result").dataset.date : f.kind === "ticket" ? "PL01-261122-007" : "" });
      }
      if (f.kind === "ticket") {  // today's scans to pick from; the dossier code comes along
        input.setAttribute("list", "tickets"); input.autocomplete = "off";
        input.onchange = () => fillFromTicket(input.value.trim());
      }
      return el("label", { "data-field": f.name }, f.label + (f.required ? " *" : ""), input);
    }), el("datalist", { id: "tickets" }, ...ticketOptions()));
  }
  const filled = {};  // what the last picked ticket put in: replaced when another is picked
  function fillFromTicket(ticket) {
    const k = tickets.find((x) => x.ticket === ticket);
    const form = $("slip-form");
    if (!k) return;
    const docs = k.dossier ? tickets.filter((x) => x.dossier === k.dossier).map((x) => x.doc) : [k.doc];
    for (const [name, value] of [["dossier", k.dossier], ["documents", [...new Set(docs)].reverse().join(", ")]]) {
      const input = form.elements[name];
      if (input && (!input.value || input.value === filled[name])) { input.value = value; filled[name] = value; }
    }
  }
  function body() {
    const fields = {};
    new FormData($("slip-form")).forEach((v, k) => { fields[k] = v; });
    return { template: $("template").value, fields };
  }
  // the outcome in words, in view; a refusal marks every field it names next to its input
  function say(text, state) {
    const box = $("print-result");
    box.dataset.state = state; box.className = `notice ${state}`; show(box, text);
    if (text) box.scrollIntoView({ block: "nearest" });
  }
  function mark(fields) {
    const form = $("slip-form");
    form.querySelectorAll(".field-error").forEach((n) => n.remove());
    form.querySelectorAll("[aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
    (fields || []).forEach((name) => {
      const input = form.elements[name];
      if (!input) return;
      input.setAttribute("aria-invalid", "true");
      input.after(el("span", { class: "field-error", role: "alert" }, $("print-result").dataset.required));
    });
    if (fields && fields.length && form.elements[fields[0]]) form.elements[fields[0]].focus({ preventScroll: true });
  }
  async function send(path) {
    try { const d = await api(path, body()); mark([]); return d; } catch (e) {
      mark(e.data && e.data.fields); say(e.message, "error"); return null;
    }
  }
  $("preview").onclick = async () => {
    const d = await send("/api/receipts/preview");
    if (!d) return;
    $("slip-preview").src = "data:image/png;base64," + d.png; $("slip-preview").hidden = false;
    say("", "");
    $("slip-preview").scrollIntoView({ block: "nearest" });
  };
  $("print").onclick = async () => {
    $("print").disabled = true;
    const d = await send("/api/receipts/print");
    $("print").disabled = false;
    if (!d) return;
    const text = VI ? d.message_vi : d.message;
    if (d.state === "failed") { say(text, "error"); return; }
    // printed, or spooled for the service to print: the form is ready for the next citizen,
    // keeping the template and what is the same all day (the officer, the place)
    const kept = KEEP.map((name) => [name, $("slip-form").elements[name]?.value]);
    drawForm(); $("slip-preview").hidden = true;
    kept.forEach(([name, value]) => { if (value && $("slip-form").elements[name]) $("slip-form").elements[name].value = value; });
    Object.keys(filled).forEach((k) => delete filled[k]);
    say(`${text} ${$("print-result").dataset.cleared}`, d.state);
  };
}

receiptsPage();
