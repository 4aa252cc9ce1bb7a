// The volunteers' page: fill a slip, preview it, print it.
"use strict";
// ---------------------------------------------------------------- volunteers: slips
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
          placeholder: f.kind === "date" ? "dd/mm/yyyy" : f.kind === "ticket" ? "PL01-261122-007" : "" });
      }
      if (f.kind === "ticket") {  // today's scans to pick from; the dossier code comes along
        input.setAttribute("list", "tickets"); input.autocomplete = "off";
        input.onchange = () => fillFromTicket(input.value.trim());
      }
      return el("label", {}, f.label + (f.required ? " *" : ""), input);
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

receiptsPage();
