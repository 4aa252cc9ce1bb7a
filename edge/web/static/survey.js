// The survey kiosk: a face, then what could be better and the queue number (both optional), then
// thanks, and back to the faces by itself. An answer the kit did not get (Wi-Fi gone) waits in
// this browser's storage and is sent again; the kit refuses a second answer for a number.
"use strict";
const KEY = "edge-survey-pending";
const RESET_MS = 6000;
let score = null;
let resetTimer = null;

function pending() { try { return JSON.parse(localStorage.getItem(KEY)) || []; } catch (e) { return []; } }
function keep(list) { try { localStorage.setItem(KEY, JSON.stringify(list)); } catch (e) { /* full or off */ } }

function step(name) {
  ["faces", "more", "thanks"].forEach((s) => { $("step-" + s).hidden = s !== name; });
  window.scrollTo(0, 0);
}

function reset() {
  clearTimeout(resetTimer);
  score = null;
  $("step-more").reset();  // a hidden input (the slip's number) keeps its value
  show($("survey-error"), "");
  step("faces");
}

function thanks(later) {
  $("saved-later").hidden = !later;
  step("thanks");
  if (!$("survey").dataset.once) resetTimer = setTimeout(reset, RESET_MS);  // a kiosk: next one
}

async function send(answer) {
  try {
    await api("/api/survey", answer);
    return "sent";
  } catch (e) {
    if (e.status) return e;  // the kit said no: say why, keep nothing
    return "later";
  }
}

async function flush() {
  const left = [];
  for (const a of pending()) {  // how long ago it was given: the visit it belongs to
    const { given, ...answer } = a;
    const age = given ? Math.max(0, (Date.now() - given) / 1000) : 0;
    if ((await send({ ...answer, age })) === "later") left.push(a);
  }
  keep(left);
}

document.querySelectorAll("button.face").forEach((b) => b.addEventListener("click", () => {
  score = Number(b.dataset.score);
  $("chosen").textContent = b.textContent.trim();
  $("chosen").className = "chosen face-" + score;
  step("more");
}));
$("survey-back").addEventListener("click", reset);
$("step-more").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const answer = { score, number: $("number").value.trim() || null,
    better: [...document.querySelectorAll('input[name="better"]:checked')].map((c) => c.value) };
  $("survey-send").disabled = true;
  const r = await send(answer);
  $("survey-send").disabled = false;
  if (r === "later") { keep([...pending(), { ...answer, given: Date.now() }]); thanks(true); return; }
  if (r !== "sent") {
    show($("survey-error"), r.message);
    $("survey-error").scrollIntoView({ block: "center" });
    return;
  }
  thanks(false);
});
flush();
setInterval(flush, 30000);
