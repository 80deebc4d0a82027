// Sing your own cover: record takes over the remix (count-in, headphone advice,
// measured latency), keep several, pick one, delete the rest. The chosen take becomes
// the recipe's `cover` (an undoable edit, saved like any other) with the tempo it was
// sung at; the preview plays it with the stems and the export renders it.
import {
  clickSamples,
  findLatency,
  micErrorMessage,
  recorderFormat,
  recordingSupported,
  reportedLatency,
} from "./studio-cover-audio.js";

const config = JSON.parse(document.getElementById("studio-config").textContent);
const root = document.querySelector("[data-studio]");
const box = document.querySelector("[data-cover]");
const $ = (sel) => box.querySelector(sel);
const csrf = () => (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const COUNT_IN_BEATS = 4; // one bar of clicks
const TAKE_GONE = "The take in your cover was deleted. Choose another take, or press “No cover vocal”.";

const takes = (config.takes || []).slice();
let latency = null; // {seconds, how}
let mic = null;
let recording = null;

const say = (text) => { $("[data-cover-status]").textContent = text; };
const fail = (text) => {
  const alert = $("[data-cover-error]");
  alert.textContent = text;
  alert.hidden = !text;
};
const studio = () => window.__studio;

function setBusy(state) {
  box.dataset.state = state;
  $("[data-cover-measure]").disabled = state !== "idle";
  $("[data-cover-record]").disabled = state !== "idle";
  $("[data-cover-stop]").disabled = state !== "recording";
}

async function microphone() {
  if (!recordingSupported()) throw Object.assign(new Error("unsupported"), { name: "Unsupported" });
  if (mic && mic.getAudioTracks().some((t) => t.readyState === "live")) return mic;
  // Raw input: echo cancelling and levelling would smear the click and the voice.
  mic = await navigator.mediaDevices.getUserMedia({
    audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
  });
  return mic;
}

// Start a MediaRecorder and resolve with it and the context time it started at.
function startRecorder(stream, ctx) {
  const format = recorderFormat();
  const recorder = new MediaRecorder(stream, format.type ? { mimeType: format.type } : {});
  const chunks = [];
  recorder.addEventListener("dataavailable", (e) => { if (e.data.size) chunks.push(e.data); });
  const stopped = new Promise((resolve) => {
    recorder.addEventListener("stop", () => resolve(new Blob(chunks, { type: recorder.mimeType || format.type })));
  });
  return new Promise((resolve, reject) => {
    recorder.addEventListener("start", () => resolve({ recorder, stopped, startedAt: ctx.currentTime, name: format.name }), { once: true });
    recorder.addEventListener("error", (e) => reject(e.error || e), { once: true });
    recorder.start();
  });
}

function playClick(ctx, when, { accent = false } = {}) {
  const samples = clickSamples(ctx.sampleRate, accent ? 2000 : 1500);
  const buffer = ctx.createBuffer(1, samples.length, ctx.sampleRate);
  buffer.copyToChannel(samples, 0);
  const src = ctx.createBufferSource();
  src.buffer = buffer;
  src.connect(ctx.destination);
  src.start(when);
}

function showLatency() {
  const out = $("[data-cover-latency]");
  if (!latency) { out.textContent = "Latency: not measured yet (we will use what your browser reports)."; return; }
  const ms = Math.round(latency.seconds * 1000);
  out.textContent = latency.how === "measured"
    ? `Latency: ${ms} ms, measured. Your takes are moved ${ms} ms earlier to line up.`
    : `Latency: about ${ms} ms, as your browser reports it (we could not hear the click).`;
}

async function measure() {
  fail("");
  setBusy("measuring");
  try {
    const ctx = studio().engine.ctx;
    if (ctx.state !== "running") await ctx.resume();
    const stream = await microphone();
    say("Measuring: you will hear one click. Hold your headphones next to the microphone.");
    const { recorder, stopped, startedAt } = await startRecorder(stream, ctx);
    const clickAt = startedAt + 0.4;
    playClick(ctx, clickAt, { accent: true });
    await sleep(1600);
    recorder.stop();
    const blob = await stopped;
    const decoded = await ctx.decodeAudioData(await blob.arrayBuffer());
    const found = findLatency(clickSamples(ctx.sampleRate), decoded.getChannelData(0), decoded.sampleRate, clickAt - startedAt);
    latency = found != null
      ? { seconds: found, how: "measured" }
      : { seconds: reportedLatency(ctx, stream.getAudioTracks()[0]), how: "reported" };
    showLatency();
    say(found != null ? "Latency measured. Put your headphones on and record." : "We could not hear the click; using your browser's own figure instead.");
  } catch (error) {
    fail(micErrorMessage(error));
    say("");
  } finally {
    setBusy("idle");
  }
}

async function record() {
  fail("");
  const engine = studio().engine;
  if (!engine.stems.size) { fail("The stems are still loading; record once the mix plays."); return; }
  setBusy("starting");
  try {
    const ctx = engine.ctx;
    if (ctx.state !== "running") await ctx.resume();
    const stream = await microphone();
    if (!latency) latency = { seconds: reportedLatency(ctx, stream.getAudioTracks()[0]), how: "reported" };
    showLatency();
    engine.stop();
    const started = await startRecorder(stream, ctx);
    const beat = 60 / ((config.tempoBpm || 120) * (engine.rate || 1));
    const first = started.startedAt + 0.2;
    for (let i = 0; i < COUNT_IN_BEATS; i++) playClick(ctx, first + i * beat, { accent: i === 0 });
    const musicAt = first + COUNT_IN_BEATS * beat;
    await engine.play(musicAt);
    // The tempo the fan sings over: a later tempo change stretches the take with the track.
    recording = { ...started, leadS: engine.startedAt - started.startedAt, tempoRatio: studio().recipe.tempo_ratio || 1 };
    setBusy("recording");
    say(`Count-in: ${COUNT_IN_BEATS} clicks, then sing. Press Stop when you are done.`);
    // The track's end stops the take too.
    recording.off = engine.on((event) => { if (event.type === "stop" && recording) stop(); });
  } catch (error) {
    fail(micErrorMessage(error));
    setBusy("idle");
  }
}

async function stop() {
  if (!recording) return;
  const current = recording;
  recording = null;
  if (current.off) current.off();
  setBusy("saving");
  studio().engine.stop();
  current.recorder.stop();
  const blob = await current.stopped;
  say("Saving your take…");
  const form = new FormData();
  form.append("audio", blob, current.name);
  form.append("lead_s", String(Math.max(0, Math.min(30, current.leadS)).toFixed(4)));
  form.append("latency_ms", String(Math.round(latency.seconds * 10000) / 10));
  form.append("tempo_ratio", String(current.tempoRatio));
  try {
    const response = await fetch(config.urls.takes, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), Accept: "application/json" },
      body: form,
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new Error((body && body.error && body.error.message) || "The take could not be saved.");
    takes.push(body);
    showTakes();
    say(`Take ${takes.length} saved. Listen to your takes and choose the one for your cover.`);
  } catch (error) {
    fail(error.message || "The take could not be saved. Check your connection and try again.");
  } finally {
    setBusy("idle");
  }
}

function applyCover(cover) {
  const recipe = JSON.parse(JSON.stringify(studio().recipe));
  if (cover) recipe.cover = cover;
  else delete recipe.cover;
  root.dispatchEvent(new CustomEvent("studio:apply-recipe", { detail: { recipe } }));
}

function choose(take) {
  const now = studio().recipe;
  applyCover(take && {
    version: 2,
    take: take.id,
    lead_s: take.lead_s,
    latency_ms: take.latency_ms == null ? 0 : take.latency_ms,
    gain_db: 0,
    mute: false,
    sung_tempo_ratio: take.tempo_ratio || now.tempo_ratio || 1,
  });
  showTakes();
  say(take ? `Take ${takes.indexOf(take) + 1} is your cover vocal: it plays with the mix and the export mixes it in. Undo takes it back.` : "No cover vocal in this remix.");
}

// The chosen take's volume and mute, like a stem's: live while the slider moves, one
// undoable edit when it is let go.
function coverEdit(change, { live = false } = {}) {
  const cover = studio().recipe.cover;
  if (!cover) return;
  const next = { ...cover, ...change };
  if (live) { syncEngine(next); return; }
  applyCover(next);
}

function syncEngine(cover = studio() && studio().recipe.cover) {
  if (!studio()) return;
  const take = cover && takes.find((t) => t.id === cover.take);
  studio().engine.setCover(take ? cover : null, take ? take.url : null);
}

// Delete a take: asked in plain words first; the chosen take is first taken out of the
// remix (an undoable edit, saved), then thrown away on the server.
function askDelete(li, take, index) {
  const actions = li.querySelector("[data-cover-actions]");
  actions.hidden = true;
  const confirm = document.createElement("div");
  confirm.className = "cover-confirm";
  confirm.setAttribute("role", "group");
  confirm.setAttribute("aria-label", `Delete take ${index + 1}?`);
  const chosen = studio().recipe.cover && studio().recipe.cover.take === take.id;
  const words = document.createElement("p");
  words.textContent = `Delete take ${index + 1} for good? You cannot get it back.` +
    (chosen ? " It is your cover vocal now, so your remix will have no cover vocal." : "");
  const yes = document.createElement("button");
  yes.type = "button";
  yes.className = "btn btn-sm btn-danger";
  yes.textContent = `Yes, delete take ${index + 1}`;
  const no = document.createElement("button");
  no.type = "button";
  no.className = "btn btn-sm btn-ghost";
  no.textContent = "Keep it";
  const cancel = () => { confirm.remove(); actions.hidden = false; li.querySelector("[data-cover-delete]").focus(); };
  no.addEventListener("click", cancel);
  confirm.addEventListener("keydown", (e) => { if (e.key === "Escape") { e.stopPropagation(); cancel(); } });
  yes.addEventListener("click", () => deleteTake(take, yes));
  confirm.append(words, yes, no);
  li.append(confirm);
  no.focus();
}

async function deleteTake(take, button) {
  fail("");
  button.disabled = true;
  const number = takes.indexOf(take) + 1;
  const s = studio();
  if (s.recipe.cover && s.recipe.cover.take === take.id) {
    applyCover(null); // undoable, like "No cover vocal"
    if (!(await s.save())) {
      fail("Your remix could not be saved without this take, so it was not deleted. Try again.");
      showTakes();
      return;
    }
  }
  try {
    const response = await fetch(`${config.urls.takes}${take.id}/`, {
      method: "DELETE",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf(), Accept: "application/json" },
    });
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      throw new Error((body && body.error && body.error.message) || "The take could not be deleted.");
    }
    takes.splice(takes.indexOf(take), 1);
    root.dispatchEvent(new CustomEvent("studio:take-deleted", { detail: { take: take.id } }));
    showTakes();
    say(`Take ${number} deleted.`);
    $("[data-cover-record]").focus();
  } catch (error) {
    fail(error.message || "The take could not be deleted. Check your connection and try again.");
    showTakes();
  }
}

function showTakes() {
  const list = $("[data-cover-takes]");
  const chosen = studio() && studio().recipe.cover ? studio().recipe.cover.take : null;
  list.innerHTML = "";
  takes.forEach((take, index) => {
    const li = document.createElement("li");
    li.dataset.coverTake = take.id;
    const label = document.createElement("span");
    label.textContent = `Take ${index + 1} · ${take.duration_s.toFixed(1)} s`;
    const audio = document.createElement("audio");
    audio.controls = true;
    audio.preload = "none";
    audio.src = take.url;
    audio.setAttribute("aria-label", `Listen to take ${index + 1}`);
    const pick = document.createElement("button");
    pick.type = "button";
    pick.className = take.id === chosen ? "btn btn-sm btn-primary" : "btn btn-sm btn-ghost";
    pick.textContent = take.id === chosen ? "In your cover" : "Use this take";
    pick.setAttribute("aria-pressed", String(take.id === chosen));
    pick.setAttribute("aria-label", `Use take ${index + 1} as your cover vocal`);
    pick.addEventListener("click", () => choose(take));
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "btn btn-sm btn-ghost";
    remove.textContent = "Delete";
    remove.dataset.coverDelete = "";
    remove.setAttribute("aria-label", `Delete take ${index + 1}`);
    remove.addEventListener("click", () => askDelete(li, take, index));
    const actions = document.createElement("span");
    actions.className = "cover-actions";
    actions.dataset.coverActions = "";
    actions.append(pick, remove);
    li.append(label, audio, actions);
    list.append(li);
  });
  $("[data-cover-empty]").hidden = takes.length > 0;
  $("[data-cover-none]").hidden = !chosen;
  showMixer();
  syncEngine();
}

function showMixer() {
  const cover = studio() && studio().recipe.cover;
  const known = cover && takes.some((t) => t.id === cover.take);
  $("[data-cover-mixer]").hidden = !known;
  // Undo after deleting the chosen take brings back a choice of a take that is gone.
  if (cover && !known) fail(TAKE_GONE);
  else if ($("[data-cover-error]").textContent === TAKE_GONE) fail("");
  if (!known) return;
  $("[data-cover-gain]").value = cover.gain_db;
  $("[data-cover-db]").textContent = `${cover.gain_db > 0 ? "+" : ""}${cover.gain_db} dB`;
  $("[data-cover-gain]").setAttribute("aria-valuetext", `${cover.gain_db} decibels`);
  const mute = $("[data-cover-mute]");
  mute.setAttribute("aria-pressed", String(!!cover.mute));
  mute.className = cover.mute ? "btn btn-sm btn-primary" : "btn btn-sm btn-ghost";
}

if (box && config.urls.takes && !box.hasAttribute("data-cover-off")) {
  if (!recordingSupported()) {
    fail(micErrorMessage({ name: "Unsupported" }));
    $("[data-cover-measure]").disabled = true;
    $("[data-cover-record]").disabled = true;
  } else {
    setBusy("idle");
  }
  $("[data-cover-measure]").addEventListener("click", measure);
  $("[data-cover-record]").addEventListener("click", record);
  $("[data-cover-stop]").addEventListener("click", stop);
  $("[data-cover-none]").addEventListener("click", () => choose(null));
  const gain = $("[data-cover-gain]");
  gain.addEventListener("input", () => coverEdit({ gain_db: Number(gain.value) }, { live: true }));
  gain.addEventListener("change", () => coverEdit({ gain_db: Number(gain.value) }));
  $("[data-cover-mute]").addEventListener("click", () => coverEdit({ mute: !studio().recipe.cover.mute }));
  root.addEventListener("studio:recipe-changed", showTakes);
  showLatency();
  // The studio module sets window.__studio as it loads; draw once it has.
  (async () => { for (let i = 0; i < 50 && !studio(); i++) await sleep(100); showTakes(); })();
}
