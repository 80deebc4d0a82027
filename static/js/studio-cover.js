// Sing your own cover: record takes over the remix (count-in, headphone advice,
// measured latency), keep several, pick one. The chosen take becomes the recipe's
// `cover` (an undoable edit, saved like any other); the export renders it.
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
    recording = { ...started, leadS: engine.startedAt - started.startedAt };
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

function choose(take) {
  const s = studio();
  const recipe = JSON.parse(JSON.stringify(s.recipe));
  recipe.cover = take && {
    version: 1,
    take: take.id,
    lead_s: take.lead_s,
    latency_ms: take.latency_ms == null ? 0 : take.latency_ms,
    gain_db: 0,
  };
  if (!take) delete recipe.cover;
  root.dispatchEvent(new CustomEvent("studio:apply-recipe", { detail: { recipe } }));
  showTakes();
  say(take ? `Take ${takes.indexOf(take) + 1} is your cover vocal; the export mixes it in. Undo takes it back.` : "No cover vocal in this remix.");
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
    li.append(label, audio, pick);
    list.append(li);
  });
  $("[data-cover-empty]").hidden = takes.length > 0;
  $("[data-cover-none]").hidden = !chosen;
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
  root.addEventListener("studio:recipe-changed", showTakes);
  showLatency();
  // The studio module sets window.__studio as it loads; draw once it has.
  (async () => { for (let i = 0; i < 50 && !studio(); i++) await sleep(100); showTakes(); })();
}
