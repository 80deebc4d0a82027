// The Clearmix studio page: stems, mixer, presets, effects, autosave, undo/redo.
import { StudioEngine, peaks, resamplePeaks, streamUrl } from "./studio-engine.js";
import { coverProblems, forbiddenUses, normalize, withPreset } from "./studio-recipe.js";
import { formatClock as fmtTime } from "./studio-clock.js";
import { createHistory, forgetTake, record, stepBack, stepForward } from "./studio-state.js";

const config = JSON.parse(document.getElementById("studio-config").textContent);
const root = document.querySelector("[data-studio]");
const $ = (sel, el = root) => el.querySelector(sel);
const $$ = (sel, el = root) => Array.from(el.querySelectorAll(sel));
const csrf = () => (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const engine = new StudioEngine();
let stemNames = config.stemNames.slice();
let recipe = normalize(config.recipe, stemNames);
let version = config.recipeVersion;
const history = createHistory();
const undoStack = history.undo;
const redoStack = history.redo;
let saveTimer = null;
let saving = null;
let dirty = false;
const presetRecipes = {};

// Opened from a track (/studio/tracks/<id>/, rendered there without a redirect):
// the address bar names the draft's own URL, for reloads and bookmarks.
if (config.urls.studio && location.pathname !== config.urls.studio) {
  window.history.replaceState(window.history.state, "", config.urls.studio + location.search + location.hash);
}

window.__studio = { engine, config, get recipe() { return recipe; }, get version() { return version; }, save: () => saveNow() };

async function api(url, options = {}) {
  const response = await fetch(url, {
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), Accept: "application/json" },
    ...options,
  });
  let body = null;
  try { body = await response.json(); } catch { body = null; }
  return { ok: response.ok, status: response.status, body };
}

// ---- errors ---------------------------------------------------------------
const errorBox = $("[data-errors]");
function clearErrors() {
  errorBox.hidden = true;
  errorBox.textContent = "";
  for (const el of $$("[aria-invalid=true]")) el.removeAttribute("aria-invalid");
  for (const el of $$(".control-error")) el.remove();
}
function controlFor(path) {
  // "recipe.stems.vocals.gain_db" -> the most specific [data-control] prefix.
  const p = path.replace(/^recipe\./, "");
  let best = null;
  for (const el of $$("[data-control]")) {
    const c = el.dataset.control;
    if ((p === c || p.startsWith(c + ".")) && (!best || c.length > best.dataset.control.length)) best = el;
  }
  return best;
}
function showErrors(message, fields = {}) {
  clearErrors();
  const list = document.createElement("ul");
  for (const [path, messages] of Object.entries(fields)) {
    const control = controlFor(path);
    const label = control ? control.dataset.label || control.dataset.control : path;
    const li = document.createElement("li");
    li.textContent = `${label}: ${messages.join(" ")}`;
    list.append(li);
    if (control) {
      const input = control.querySelector("input");
      if (input) input.setAttribute("aria-invalid", "true");
      const note = document.createElement("p");
      note.className = "control-error";
      note.textContent = messages.join(" ");
      control.append(note);
    }
  }
  const strong = document.createElement("p");
  strong.textContent = message;
  errorBox.append(strong);
  if (list.children.length) errorBox.append(list);
  errorBox.hidden = false;
}

// ---- saving ---------------------------------------------------------------
const saveState = $("[data-save-state]");
function setSaveState(text) { saveState.textContent = text; saveState.dataset.state = text; }

function payload() {
  const body = JSON.parse(JSON.stringify(recipe));
  const region = $("[data-region-export]").checked ? readLoop() : null;
  body.region = region && region.end > region.start ? { start_s: region.start, end_s: region.end } : null;
  return body;
}

// Edits are never lost on leaving: the unsaved recipe is kept in this tab's
// sessionStorage until the server confirms it, flushed with a keepalive
// request when the page goes away, and re-applied on the next open if the
// page was rendered before that flush landed.
const stashKey = `clearmix:unsaved-recipe:${config.remixId}`;
function stash() {
  try { sessionStorage.setItem(stashKey, JSON.stringify(payload())); } catch { /* private mode */ }
}
function unstash() {
  try { sessionStorage.removeItem(stashKey); } catch { /* private mode */ }
}
function stashed() {
  try { return JSON.parse(sessionStorage.getItem(stashKey) || "null"); } catch { return null; }
}
function flushOnLeave() {
  if (!dirty && !saving) return;
  // No version: this tab's last edit wins over its own earlier in-flight save.
  fetch(config.urls.recipe, {
    method: "PUT",
    keepalive: true,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), Accept: "application/json" },
    body: JSON.stringify({ recipe: payload() }),
  });
}

function scheduleSave() {
  dirty = true;
  stash();
  setSaveState("unsaved changes");
  clearTimeout(saveTimer);
  saveTimer = setTimeout(saveNow, 700);
}

async function saveNow({ force = false } = {}) {
  clearTimeout(saveTimer);
  if (saving) await saving;
  if (!dirty) return true;
  const body = payload();
  const problems = forbiddenUses(normalize(body, stemNames), config.forbidden);
  if (problems.length) {
    const fields = {};
    for (const [f, m] of problems) (fields[f] = fields[f] || []).push(m);
    showErrors("Not saved: this change needs a permission the artist did not give.", fields);
    setSaveState("not saved");
    return false;
  }
  const clashes = coverProblems(normalize(body, stemNames));
  if (clashes.length) {
    const fields = {};
    for (const [f, m] of clashes) (fields[f] = fields[f] || []).push(m);
    showErrors(`Not saved: ${clashes[0][1]}`, fields);
    setSaveState("not saved");
    return false;
  }
  setSaveState("saving…");
  dirty = false;
  saving = api(config.urls.recipe, {
    method: "PUT",
    body: JSON.stringify(force ? { recipe: body } : { recipe: body, recipe_version: version }),
  }).then(({ ok, status, body: answer }) => {
    saving = null;
    if (ok) {
      version = answer.recipe_version;
      if (!dirty) unstash();
      clearErrors();
      setSaveState("saved");
      return true;
    }
    dirty = true;
    const error = (answer && answer.error) || { message: `The server said ${status}.`, fields: {} };
    showErrors(error.message, error.fields || {});
    // 409 is also the terms in force refusing the recipe: only a save made elsewhere
    // (or a remix that is no longer a draft) asks for a reload.
    const elsewhere = ["stale_recipe", "not_draft"].includes(error.code);
    setSaveState(elsewhere ? "changed elsewhere — reload" : "not saved");
    return false;
  }).catch(() => {
    saving = null;
    dirty = true;
    setSaveState("offline — will retry");
    saveTimer = setTimeout(saveNow, 3000);
    return false;
  });
  return saving;
}
window.addEventListener("beforeunload", (e) => { if (dirty) e.preventDefault(); });
window.addEventListener("pagehide", flushOnLeave);

// Opened while a previous visit's last edit was still on its way: apply it.
function restoreStashed() {
  const kept = stashed();
  if (!kept) return;
  const restored = normalize(kept, stemNames);
  if (JSON.stringify(restored) === JSON.stringify(recipe)) { unstash(); return; }
  recipe = restored;
  dirty = true;
  saveNow({ force: true });
}

// ---- state changes, undo/redo ---------------------------------------------
function commit(next, { live = false } = {}) {
  if (!live) record(history, JSON.stringify(recipe));
  recipe = next;
  applyToEngine();
  render();
  if (!live) scheduleSave();
}
function undo() {
  const previous = stepBack(history, recipe);
  if (!previous) return;
  recipe = previous;
  applyToEngine(); render(); scheduleSave();
}
function redo() {
  const next = stepForward(history, recipe);
  if (!next) return;
  recipe = next;
  applyToEngine(); render(); scheduleSave();
}
const clone = () => JSON.parse(JSON.stringify(recipe));
// "Describe your remix" (studio-describe.js) hands over a whole recipe: one undoable edit.
root.addEventListener("studio:apply-recipe", (e) => commit(normalize(e.detail.recipe, stemNames)));
// A take deleted for good (studio-cover.js): Undo and Redo can no longer choose it.
root.addEventListener("studio:take-deleted", (e) => forgetTake(history, e.detail.take));

function applyToEngine() {
  engine.setStems(recipe.stems);
  engine.setEffects(recipe.effects);
  engine.setRate(recipe.tempo_ratio, recipe.key_shift);
  engine.setArrangement(recipe.arrangement || null);
}

// ---- stems UI ---------------------------------------------------------------
const stemList = $("[data-stem-list]");
const volumeForbidden = !!config.forbidden.stem_volume;
function buildStems() {
  stemList.innerHTML = "";
  stemNames.forEach((name, i) => {
    const li = document.createElement("li");
    li.className = "stem";
    li.dataset.stem = name;
    li.dataset.control = `stems.${name}`;
    li.dataset.label = `${name[0].toUpperCase()}${name.slice(1)} stem`;
    const id = `gain-${name}`;
    li.innerHTML = `
      <div class="stem-head">
        <span class="stem-name"><kbd>${i + 1}</kbd> ${name}</span>
        <button type="button" class="btn btn-sm btn-ghost" data-stem-mute aria-pressed="false" aria-label="Mute ${name}" aria-keyshortcuts="${i + 1}">M</button>
        <button type="button" class="btn btn-sm btn-ghost" data-stem-solo aria-pressed="false" aria-label="Solo ${name}" aria-keyshortcuts="Shift+${i + 1}">S</button>
        <label for="${id}" class="visually-hidden">${name} volume (dB)</label>
        <input id="${id}" type="range" min="-60" max="12" step="0.5" value="0" data-stem-gain>
        <output data-stem-db>0 dB</output>
      </div>
      <canvas class="wave" height="44" data-wave aria-label="Waveform of ${name}; click to move the playhead" role="img"></canvas>`;
    if (volumeForbidden) for (const el of li.querySelectorAll("button, input")) { el.disabled = true; el.title = config.forbidden.stem_volume; }
    const gain = li.querySelector("[data-stem-gain]");
    gain.addEventListener("input", () => {
      const next = clone(); next.stems[name].gain_db = Number(gain.value); commit(next, { live: true });
    });
    gain.addEventListener("change", () => {
      const next = clone(); next.stems[name].gain_db = Number(gain.value);
      undoStack.push(lastCommitted); redoStack.length = 0; recipe = next; applyToEngine(); render(); scheduleSave();
    });
    gain.addEventListener("pointerdown", () => { lastCommitted = JSON.stringify(recipe); });
    gain.addEventListener("keydown", () => { lastCommitted = JSON.stringify(recipe); });
    li.querySelector("[data-stem-mute]").addEventListener("click", () => toggleStem(name, "mute"));
    li.querySelector("[data-stem-solo]").addEventListener("click", () => toggleStem(name, "solo"));
    li.querySelector("[data-wave]").addEventListener("click", (e) => seekFromEvent(e));
    stemList.append(li);
  });
}
let lastCommitted = JSON.stringify(recipe);
function toggleStem(name, key) {
  if (volumeForbidden) return showErrors(config.forbidden.stem_volume);
  const next = clone(); next.stems[name][key] = !next.stems[name][key]; commit(next);
}

// Waveforms come from the server's precomputed peaks (drawn before any audio
// is decoded); from the decoded buffer only for stems made before peaks existed.
const stemPeaks = new Map();
function drawWave(canvas, source, color) {
  const width = (canvas.width = Math.max(200, Math.floor(canvas.clientWidth * devicePixelRatio)));
  const height = (canvas.height = Math.floor(44 * devicePixelRatio));
  const g = canvas.getContext("2d");
  const p = Array.isArray(source) ? resamplePeaks(source, width) : peaks(source, width);
  g.clearRect(0, 0, width, height);
  g.fillStyle = color;
  for (let x = 0; x < width; x++) {
    const h = Math.max(1, Math.min(1, p[x]) * height * 0.95);
    g.fillRect(x, (height - h) / 2, 1, h);
  }
}
function overviewPeaks() {
  // The mix's outline from the stems' peaks: their sum bounds the mix's peak.
  const all = stemNames.map((name) => stemPeaks.get(name));
  if (!all.length || all.some((p) => !p)) return null;
  return all[0].map((_, i) => all.reduce((sum, p) => sum + (p[i] || 0), 0));
}
function drawAll() {
  const colors = ["#5b3df5", "#0b7a4b", "#b45309", "#be185d", "#0369a1", "#6d28d9"];
  stemNames.forEach((name, i) => {
    const source = stemPeaks.get(name) || (engine.stems.get(name) || {}).buffer;
    const canvas = $(`[data-stem="${name}"] [data-wave]`);
    if (source && canvas) drawWave(canvas, source, colors[i % colors.length]);
  });
  const overview = $("[data-overview]");
  const first = engine.original || overviewPeaks() || (engine.stems.values().next().value || {}).buffer;
  if (first) drawWave(overview, first, "#8f86b8");
}
window.addEventListener("resize", () => { if (engine.stems.size || stemPeaks.size) drawAll(); });

// ---- render state into controls -----------------------------------------------
// Sliders announce their values in words with units (aria-valuetext), not bare numbers.
function semitones(n) {
  if (!n) return "original key";
  const word = Math.abs(n) === 1 ? "semitone" : "semitones";
  return `${n > 0 ? "+" : "−"}${Math.abs(n)} ${word} (${n > 0 ? "higher" : "lower"})`;
}
const percent = (v) => `${Math.round(v * 100)}%`;
const FX_TEXT = {
  highpass_hz: (v) => `${v} Hz`,
  lowpass_hz: (v) => `${v} Hz`,
  "compressor.threshold_db": (v) => `${v} dB`,
  "compressor.ratio": (v) => `${v} to 1`,
  "delay.seconds": (v) => `${v.toFixed(2)} seconds`,
  "delay.feedback": percent,
  "delay.mix": percent,
  "reverb.room_size": percent,
  "reverb.wet": percent,
};
function fxText(key, value) { return (FX_TEXT[key] || String)(value); }

function render() {
  root.dispatchEvent(new CustomEvent("studio:recipe-changed")); // side cards follow (cover takes)
  for (const name of stemNames) {
    const li = $(`[data-stem="${name}"]`);
    if (!li) continue;
    const s = recipe.stems[name];
    li.querySelector("[data-stem-gain]").value = s.gain_db;
    const db = `${s.gain_db > 0 ? "+" : ""}${s.gain_db} dB`;
    li.querySelector("[data-stem-db]").textContent = db;
    li.querySelector("[data-stem-gain]").setAttribute("aria-valuetext", `${db}${s.mute ? ", muted" : ""}${s.solo ? ", solo" : ""}`);
    li.querySelector("[data-stem-mute]").setAttribute("aria-pressed", String(s.mute));
    li.querySelector("[data-stem-solo]").setAttribute("aria-pressed", String(s.solo));
    li.classList.toggle("is-muted", s.mute);
    li.classList.toggle("is-solo", s.solo);
  }
  const tempo = $("[data-field=tempo_ratio]");
  tempo.value = recipe.tempo_ratio;
  const tempoText = `${Math.round(recipe.tempo_ratio * 100)}%${config.tempoBpm ? ` (${Math.round(config.tempoBpm * recipe.tempo_ratio)} BPM)` : ""}`;
  $("[data-out=tempo]").textContent = tempoText;
  tempo.setAttribute("aria-valuetext", `${tempoText} of the original tempo`);
  const key = $("[data-field=key_shift]");
  key.value = recipe.key_shift;
  $("[data-out=key]").textContent = `${recipe.key_shift > 0 ? "+" : ""}${recipe.key_shift} st`;
  key.setAttribute("aria-valuetext", semitones(recipe.key_shift));
  for (const fade of ["fade_in_s", "fade_out_s"]) {
    const input = $(`[data-field=${fade}]`);
    if (!input) continue;
    input.value = recipe[fade];
    $(`[data-out=${fade}]`).textContent = `${Number(recipe[fade]).toFixed(1)} s`;
    input.setAttribute("aria-valuetext", `${Number(recipe[fade]).toFixed(1)} seconds`);
  }
  for (const toggle of $$("[data-fx-toggle]")) {
    const k = toggle.dataset.fxToggle;
    const value = recipe.effects[k];
    toggle.checked = value !== null && value !== undefined;
    for (const input of $$(`[data-fx^="${k}"]`)) {
      const [, sub] = input.dataset.fx.split(".");
      if (value !== null && value !== undefined) input.value = sub ? value[sub] : value;
      input.setAttribute("aria-valuetext", fxText(input.dataset.fx, Number(input.value)) + (toggle.checked ? "" : " (effect off)"));
    }
  }
  $("[data-action=undo]").disabled = !undoStack.length;
  $("[data-action=redo]").disabled = !redoStack.length;
}

// ---- tempo, key, effects --------------------------------------------------------
for (const input of $$("[data-field]")) {
  const field = input.dataset.field;
  const read = () => { const next = clone(); next[field] = Number(input.value); return next; };
  input.addEventListener("pointerdown", () => { lastCommitted = JSON.stringify(recipe); });
  input.addEventListener("keydown", () => { lastCommitted = JSON.stringify(recipe); });
  input.addEventListener("input", () => commit(read(), { live: true }));
  input.addEventListener("change", () => {
    undoStack.push(lastCommitted); redoStack.length = 0; recipe = read(); applyToEngine(); render(); scheduleSave();
  });
}
function readEffect(k) {
  const inputs = $$(`[data-fx^="${k}"]`);
  if (inputs.length === 1 && !inputs[0].dataset.fx.includes(".")) return Number(inputs[0].value);
  const value = {};
  for (const input of inputs) value[input.dataset.fx.split(".")[1]] = Number(input.value);
  return value;
}
for (const toggle of $$("[data-fx-toggle]")) {
  const k = toggle.dataset.fxToggle;
  toggle.addEventListener("change", () => {
    const next = clone(); next.effects[k] = toggle.checked ? readEffect(k) : null; commit(next);
  });
}
for (const input of $$("[data-fx]")) {
  const k = input.dataset.fx.split(".")[0];
  const toggle = $(`[data-fx-toggle="${k}"]`);
  input.addEventListener("pointerdown", () => { lastCommitted = JSON.stringify(recipe); });
  input.addEventListener("input", () => {
    input.setAttribute("aria-valuetext", fxText(input.dataset.fx, Number(input.value)) + (toggle.checked ? "" : " (effect off)"));
    if (!toggle.checked) return;
    const next = clone(); next.effects[k] = readEffect(k); commit(next, { live: true });
  });
  input.addEventListener("change", () => {
    if (!toggle.checked) { toggle.checked = true; }
    const next = clone(); next.effects[k] = readEffect(k);
    undoStack.push(lastCommitted); redoStack.length = 0; recipe = next; applyToEngine(); render(); scheduleSave();
  });
}

// ---- presets and "Remix for me" -------------------------------------------------
const presetBox = $("[data-presets]");
const presetNote = $("[data-preset-note]");
async function loadPresets() {
  presetBox.innerHTML = "";
  for (const preset of config.presets) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-ghost preset";
    button.dataset.preset = preset.slug;
    button.textContent = preset.name;
    button.title = preset.description;
    button.addEventListener("click", () => applyPreset(preset.slug));
    presetBox.append(button);
  }
  await Promise.all(config.presets.map(async (preset) => {
    const { ok, body } = await api(config.urls.presetRecipe.replace("__slug__", preset.slug));
    const button = presetBox.querySelector(`[data-preset="${preset.slug}"]`);
    if (!ok) { button.disabled = true; return; }
    presetRecipes[preset.slug] = body.recipe;
    const problems = forbiddenUses(normalize(body.recipe, stemNames), config.forbidden);
    if (problems.length) {
      button.disabled = true;
      const why = [...new Set(problems.map(([, m]) => m))].join(" ");
      button.title = why;
      button.setAttribute("aria-description", why);
      button.classList.add("is-forbidden");
    }
  }));
  const s = config.suggestion;
  if (s && s.slug && presetRecipes[s.slug] && !presetBox.querySelector(`[data-preset="${s.slug}"]`).disabled) {
    $("[data-suggestion]").hidden = false;
    $("[data-suggestion-name]").textContent = s.name;
    $("[data-suggestion-reason]").textContent = s.reason;
    presetBox.querySelector(`[data-preset="${s.slug}"]`).classList.add("is-suggested");
  }
}
function applyPreset(slug) {
  const r = presetRecipes[slug];
  if (!r) return;
  commit(withPreset(recipe, r, stemNames)); // the fan's cover take stays
  const name = config.presets.find((p) => p.slug === slug).name;
  presetNote.textContent = `${name} applied — tweak anything, or undo.`;
  for (const b of $$("[data-preset]")) b.setAttribute("aria-pressed", String(b.dataset.preset === slug));
}
$("[data-action=accept-suggestion]").addEventListener("click", () => applyPreset(config.suggestion.slug));

// ---- transport, timeline, loop ---------------------------------------------------
const playBtn = $("[data-action=play]");
const seekInput = $("[data-seek]");
function seekFromEvent(e) {
  const rect = e.currentTarget.getBoundingClientRect();
  engine.seek(((e.clientX - rect.left) / rect.width) * engine.duration);
}
$("[data-overview]").addEventListener("click", seekFromEvent);
seekInput.addEventListener("input", () => engine.seek(Number(seekInput.value)));
playBtn.addEventListener("click", () => engine.toggle());
$("[data-action=stop]").addEventListener("click", () => engine.stop());
$("[data-action=undo]").addEventListener("click", undo);
$("[data-action=redo]").addEventListener("click", redo);
const abBtn = $("[data-action=ab]");
function toggleAB() {
  const mode = engine.setMode(engine.mode === "remix" ? "original" : "remix");
  abBtn.setAttribute("aria-pressed", String(mode === "original"));
  abBtn.textContent = mode === "original" ? "A/B: original" : "A/B: remix";
}
abBtn.addEventListener("click", toggleAB);
const loopBtn = $("[data-action=loop]");
function readLoop() {
  return { start: Number($("[data-loop-start]").value) || 0, end: Number($("[data-loop-end]").value) || 0 };
}
function applyLoop() {
  const on = loopBtn.getAttribute("aria-pressed") === "true";
  const { start, end } = readLoop();
  engine.setLoop(on, start, end);
  const region = $("[data-loop-region]");
  const d = engine.duration || 1;
  region.hidden = !(end > start);
  region.style.left = `${(start / d) * 100}%`;
  region.style.width = `${((end - start) / d) * 100}%`;
  region.classList.toggle("is-on", on);
}
function toggleLoop() {
  const on = loopBtn.getAttribute("aria-pressed") !== "true";
  loopBtn.setAttribute("aria-pressed", String(on));
  applyLoop();
}
loopBtn.addEventListener("click", toggleLoop);
for (const el of $$("[data-loop-start], [data-loop-end]")) el.addEventListener("change", () => { applyLoop(); if ($("[data-region-export]").checked) scheduleSave(); });
$("[data-region-export]").addEventListener("change", scheduleSave);

// What is decoded, for people and tests (never timing): each stem's decoded
// seconds, and on the studio "partial" (some stems play from a decoded prefix,
// the rest on its way) until every stem is decoded whole ("complete").
function showDecoded(name) {
  const li = $(`[data-stem="${name}"]`);
  const stem = engine.stems.get(name);
  if (li && stem) {
    li.dataset.decodedS = engine.decodedSeconds(name).toFixed(2);
    li.dataset.decoded = stem.complete ? "whole" : "prefix";
  }
  root.dataset.audio = engine.complete ? "complete" : "partial";
}
engine.on((event) => {
  if (event.type === "stem") showDecoded(event.name);
  if (event.type === "play") { playBtn.textContent = "Pause"; playBtn.setAttribute("aria-pressed", "true"); }
  if (event.type === "pause" || event.type === "stop") { playBtn.textContent = "Play"; playBtn.setAttribute("aria-pressed", "false"); }
});
const meter = $("[data-meter]");
function tick() {
  const pos = engine.position();
  const d = engine.duration || 1;
  $("[data-playhead]").style.left = `${(pos / d) * 100}%`;
  const clock = fmtTime(pos);
  if ($("[data-time]").textContent !== clock) {
    $("[data-time]").textContent = clock;
    seekInput.setAttribute("aria-valuetext", `${clock} of ${fmtTime(engine.duration)}`);
  }
  if (document.activeElement !== seekInput) seekInput.value = pos;
  meter.value = Math.min(1, engine.level() * 3);
  requestAnimationFrame(tick);
}

// ---- keyboard ---------------------------------------------------------------------
document.addEventListener("keydown", (e) => {
  const t = e.target;
  const typing = t.matches("input[type=text], input[type=number], input[type=url], textarea, select");
  if (typing) return;
  const mod = e.ctrlKey || e.metaKey;
  if (mod && e.key.toLowerCase() === "z") { e.preventDefault(); return e.shiftKey ? redo() : undo(); }
  if (mod && e.key.toLowerCase() === "y") { e.preventDefault(); return redo(); }
  if (mod || e.altKey) return;
  if (e.code === "Space" && !t.matches("button, a, input[type=checkbox]")) { e.preventDefault(); engine.toggle(); return; }
  if (e.key.toLowerCase() === "b" && !e.shiftKey) { toggleAB(); return; }
  if (e.key.toLowerCase() === "l" && !e.shiftKey) { toggleLoop(); return; }
  const digit = /^Digit([1-9])$/.exec(e.code);
  if (digit) {
    const name = stemNames[Number(digit[1]) - 1];
    if (name) { e.preventDefault(); toggleStem(name, e.shiftKey ? "solo" : "mute"); }
  }
});

// ---- export: save first -------------------------------------------------------------
$("[data-export-form]").addEventListener("submit", async (e) => {
  e.preventDefault();
  const button = e.target.querySelector("button");
  button.disabled = true;
  button.textContent = "Saving…";
  engine.pause();
  const ok = await saveNow();
  if (ok !== false) { e.target.submit(); return; }
  button.disabled = false;
  button.textContent = "Export remix";
});

// Export is offered only once the stems exist (the server refuses it before);
// the page may have opened while they were still being made.
function enableExport() {
  const why = $("[data-export-why]");
  if (why) why.hidden = true;
  const button = $("[data-export-form] button");
  button.disabled = false;
  button.removeAttribute("aria-describedby");
}

// ---- stems: separation on demand, then load ------------------------------------------
const sepPanel = $("[data-separation]");
function showStemsSource(source, model) {
  // The server names the backend and model that made the stems (official, Demucs or embedded).
  $("[data-stems-source]").textContent = `${source}${/unittest/.test(model) ? " (an untrained test model: expect poor separation)" : ""}.`;
}
async function waitForStems() {
  // Ready stems come with the page (their streams already preloading).
  if (config.stems && config.stems.length) {
    showStemsSource(config.stemsSource, config.stemsModel);
    return config.stems;
  }
  let { body } = await api(config.urls.stems);
  let stemSet = body && body.stem_set;
  if (!stemSet || stemSet.status === "cancelled") {
    // Ask for stems once; the server queues only what nobody is working on,
    // and never restarts a set that failed for good (our staff do that).
    const started = await api(config.urls.stems, { method: "POST", body: "{}" });
    if (!started.ok) throw new Error((started.body && started.body.error && started.body.error.message) || "Could not start preparing the stems.");
    stemSet = started.body.stem_set;
  }
  if (stemSet.status !== "ready") {
    root.dataset.state = "separating";
    $("[data-workspace]").inert = true;
    sepPanel.hidden = false;
    const message = $("[data-sep-message]");
    for (;;) {
      const { body: status } = await api(config.urls.status);
      stemSet = status && status.stem_set;
      if (stemSet) {
        $("[data-sep-progress]").value = stemSet.progress;
        $("[data-sep-percent]").textContent = `${stemSet.progress}%`;
        $("[data-sep-stage]").textContent = stemSet.stage || "Working…";
        sepPanel.dataset.progress = stemSet.progress;
        sepPanel.dataset.status = stemSet.status;
        // Plain words for the fan (what happened, what comes next); never the technical detail.
        message.textContent = stemSet.error || "";
        message.hidden = !stemSet.error;
        if (stemSet.status === "ready") break;
        if (stemSet.status === "failed" || stemSet.status === "cancelled") {
          $("#sep-title").textContent = "We couldn't prepare the stems";
          // What happened and what comes next is in the message; the bar and stage are noise now.
          for (const el of $$("[data-sep-intro], [data-sep-bar], [data-sep-stage]")) el.style.display = "none";
          throw new Error("separation stopped");
        }
      }
      await sleep(stemSet && stemSet.status === "pending" && stemSet.error ? 5000 : 800);
    }
    sepPanel.hidden = true;
    ({ body } = await api(config.urls.stems));
  }
  // The original's preview may have been made while the stems were.
  if (body.original) config.originalUrl = body.original;
  showStemsSource(body.stem_set.source, body.stem_set.model);
  return body.stems;
}

// The original's lossy preview is made once, by a worker; until then A/B waits.
async function awaitOriginal(tries = 60) {
  for (let i = 0; i < tries && !engine.original; i++) {
    await sleep(2000);
    const { body } = await api(config.urls.stems);
    if (body && body.original && (await engine.loadOriginal(body.original))) {
      config.originalUrl = body.original;
      abBtn.disabled = false;
      abBtn.title = "Compare with the original (B)";
    }
  }
  if (!engine.original) abBtn.title = "The original is not available.";
}

// The original (A/B) loads after the stems, so it never delays the first sound.
async function loadOriginalLater() {
  if (config.originalUrl && (await engine.loadOriginal(config.originalUrl))) {
    abBtn.disabled = false;
    abBtn.title = "Compare with the original (B)";
    drawAll();
    return;
  }
  awaitOriginal();
}

async function start() {
  try {
    const stems = await waitForStems();
    stemNames = stems.map((s) => s.name);
    recipe = normalize(recipe, stemNames);
    buildStems();
    render();
    root.dataset.state = "loading";
    $("[data-workspace]").inert = false;
    for (const s of stems) if (s.peaks) stemPeaks.set(s.name, s.peaks);
    if (stemPeaks.size) drawAll();
    // The stems' light streams first, and nothing else: play waits only for them.
    const head = (s) => (streamUrl(s) === s.url_mp3 && s.url_head) || "";
    await Promise.all(stems.map((s) => engine.loadStem(s.name, streamUrl(s), s.duration_s, head(s))));
    $("[data-duration]").textContent = fmtTime(engine.duration);
    seekInput.max = engine.duration;
    // Each fade may take at most a third of the track.
    for (const fade of $$("[data-field^=fade_]")) fade.max = Math.max(0.1, engine.duration / 3).toFixed(1);
    if (!Number($("[data-loop-end]").value)) {
      const r = recipe.region;
      $("[data-loop-start]").value = r ? r.start_s : 0;
      $("[data-loop-end]").value = r ? r.end_s : Math.min(8, engine.duration).toFixed(1);
      $("[data-region-export]").checked = !!r;
    }
    for (const el of $$("[data-loop-start], [data-loop-end]")) el.max = engine.duration;
    abBtn.disabled = true;
    abBtn.title = "The original is being prepared…";
    drawAll();
    applyToEngine();
    applyLoop();
    for (const b of $$(".transport [data-action]")) if (b !== abBtn) b.disabled = false;
    render();
    root.dataset.state = "ready";
    enableExport();
    requestAnimationFrame(tick);
    loadPresets();
    // The rest of each stem, then the original (A/B): neither delays the first sound.
    await engine.loadRest();
    if (!stemPeaks.size) drawAll();
    loadOriginalLater();
  } catch (error) {
    if (root.dataset.state !== "ready") loadPresets();
    root.dataset.state = "error";
    if (error.message !== "separation stopped") showErrors(`The studio could not load: ${error.message}`);
  }
}

restoreStashed();
render();
start(); // presets load once the stems can play: they never delay the first sound
