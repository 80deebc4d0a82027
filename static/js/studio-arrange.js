// Arrange: the sections found in the track (once per stem set, on the server), and the
// fan's own order of them (reorder, repeat, leave out), applied as one undoable edit.

const config = JSON.parse(document.getElementById("studio-config").textContent);
const root = document.querySelector("[data-studio]");
const box = document.querySelector("[data-arrange]");
const $ = (sel) => box.querySelector(sel);
const forbidden = (config.forbidden || {}).arrangement;
let found = [];
let order = [];

const clock = (s) => `${Math.floor(s / 60)}:${String(Math.round(s % 60)).padStart(2, "0")}`;
const describe = (s) => `${s.label} · ${clock(s.start_s)}–${clock(s.end_s)}`;

function button(text, label, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "btn btn-sm btn-ghost";
  b.textContent = text;
  b.setAttribute("aria-label", label);
  b.addEventListener("click", onClick);
  return b;
}

function showFound() {
  const list = $("[data-arrange-found]");
  list.innerHTML = "";
  for (const section of found) {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.className = "arrange-label";
    name.textContent = describe(section);
    li.append(name);
    if (!forbidden) li.append(button("Add", `Add section ${describe(section)}`, () => { order.push(section); showOrder(); }));
    list.append(li);
  }
}

function move(index, by) {
  const target = index + by;
  if (target < 0 || target >= order.length) return;
  [order[index], order[target]] = [order[target], order[index]];
  showOrder();
}

function showOrder() {
  const list = $("[data-arrange-order]");
  list.innerHTML = "";
  order.forEach((section, index) => {
    const li = document.createElement("li");
    li.dataset.arrangeItem = String(index);
    const name = document.createElement("span");
    name.className = "arrange-label";
    name.textContent = `${index + 1}. ${describe(section)}`;
    li.append(
      name,
      button("↑", `Move ${describe(section)} earlier`, () => move(index, -1)),
      button("↓", `Move ${describe(section)} later`, () => move(index, 1)),
      button("✕", `Remove ${describe(section)}`, () => { order.splice(index, 1); showOrder(); }),
    );
    list.append(li);
  });
  $("[data-arrange-empty]").hidden = order.length > 0;
  $("[data-arrange-apply]").disabled = order.length === 0;
}

function apply(arrangement) {
  const studio = window.__studio;
  if (!studio) return;
  const recipe = JSON.parse(JSON.stringify(studio.recipe));
  recipe.arrangement = arrangement;
  if (arrangement) recipe.region = null; // an export region and an arrangement exclude each other
  root.dispatchEvent(new CustomEvent("studio:apply-recipe", { detail: { recipe } }));
}

async function load(tries = 12) {
  for (let i = 0; i < tries; i++) {
    const response = await fetch(config.urls.stems, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const body = response.ok ? await response.json() : null;
    if (body && body.structure) return body.structure;
    await new Promise((r) => setTimeout(r, 5000));
  }
  return null;
}

async function start() {
  const structure = await load();
  const status = $("[data-arrange-status]");
  if (!structure) { status.textContent = "Sections are not ready yet; come back in a minute."; return; }
  found = structure.sections;
  status.textContent = `${found.length} section${found.length === 1 ? "" : "s"} found at about ${Math.round(structure.tempo_bpm)} BPM, ${structure.bars_s.length} bars (${structure.meter}). Sections with the same letter sound alike.`;
  showFound();
  const saved = window.__studio && window.__studio.recipe.arrangement;
  if (saved) { order = saved.sections.map((s) => found.find((f) => f.start_s === s.start_s && f.end_s === s.end_s) || { ...s, label: "·" }); }
  showOrder();
}

if (box && config.urls.stems) {
  $("[data-arrange-apply]").addEventListener("click", () => {
    apply({ version: 1, crossfade_ms: 20, sections: order.map((s) => ({ start_s: s.start_s, end_s: s.end_s })) });
    $("[data-arrange-status]").textContent = `Your order of ${order.length} sections is in the remix. Undo takes it back.`;
  });
  $("[data-arrange-clear]").addEventListener("click", () => { order = []; showOrder(); apply(null); });
  start();
}
