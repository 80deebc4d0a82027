// Clearmix studio audio engine: stems played in sync with the Web Audio API.
// No framework, no CDN. One AudioContext; every stem is an AudioBufferSource
// started at the same context time, so they never drift apart.

import { arrangedLength, arrangementSchedule } from "./studio-arrangement.js";
import { coverPlayback } from "./studio-cover-audio.js";

export const dbToGain = (db) => Math.pow(10, db / 20);

// Seconds of each stem decoded before play is offered. The rest follows as its
// bytes arrive, in longer and longer prefixes (each GROWTH times the last, or
// the whole stream once it is all here), each swapped in sample-accurately.
export const HEAD_SECONDS = 2;
const GROWTH = 4;
// Seconds of decoded audio left at which the next prefix is decoded anyway.
const LOW_WATER_S = 1.5;

function impulseResponse(ctx, roomSize) {
  // A decaying stereo noise burst: a cheap, convincing room.
  const seconds = 0.3 + roomSize * 3.2;
  const length = Math.max(1, Math.floor(ctx.sampleRate * seconds));
  const ir = ctx.createBuffer(2, length, ctx.sampleRate);
  for (let ch = 0; ch < 2; ch++) {
    const data = ir.getChannelData(ch);
    for (let i = 0; i < length; i++) {
      data[i] = (Math.random() * 2 - 1) * Math.pow(1 - i / length, 2 + (1 - roomSize) * 3);
    }
  }
  return ir;
}

export function peaks(buffer, width) {
  // Max absolute amplitude per pixel column (first two channels mixed).
  const out = new Float32Array(width);
  const a = buffer.getChannelData(0);
  const b = buffer.numberOfChannels > 1 ? buffer.getChannelData(1) : a;
  const step = Math.max(1, Math.floor(a.length / width));
  for (let x = 0; x < width; x++) {
    let max = 0;
    const start = x * step;
    const end = Math.min(a.length, start + step);
    for (let i = start; i < end; i += 4) {
      const v = Math.abs((a[i] + b[i]) / 2);
      if (v > max) max = v;
    }
    out[x] = max;
  }
  return out;
}

function joinChunks(chunks, length) {
  const bytes = new Uint8Array(length);
  let pos = 0;
  for (const c of chunks) { bytes.set(c, pos); pos += c.length; }
  return bytes.buffer;
}

// A download read as it arrives, all of it, in the background: `until(n)`
// resolves once n bytes (or the end) are here, `prefix(n)` is a fresh copy of
// the first n bytes (decodeAudioData detaches what it is given).
export function byteStream(reader, total, first = null) {
  const chunks = first ? [first] : [];
  let waiters = [];
  const stream = {
    total,
    received: first ? first.length : 0,
    done: false,
    error: null,
    until(wanted) {
      if (stream.error) return Promise.reject(stream.error);
      if (stream.done || stream.received >= wanted) return Promise.resolve();
      return new Promise((resolve, reject) => waiters.push({ wanted, resolve, reject }));
    },
    async prefix(wanted) {
      await stream.until(wanted);
      const all = joinChunks(chunks, stream.received);
      return wanted >= stream.received ? all : all.slice(0, wanted);
    },
  };
  const wake = () => {
    waiters = waiters.filter((w) => {
      if (stream.error) w.reject(stream.error);
      else if (stream.done || stream.received >= w.wanted) w.resolve();
      else return true;
      return false;
    });
  };
  (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        stream.received += value.length;
        wake();
      }
      stream.done = true;
    } catch (error) {
      stream.error = error;
    }
    wake();
  })();
  return stream;
}

export function resamplePeaks(source, width) {
  // Precomputed peaks (about 1000 columns, from the server) to `width` columns.
  const out = new Float32Array(width);
  const n = source.length;
  if (!n) return out;
  for (let x = 0; x < width; x++) {
    const start = Math.floor((x * n) / width);
    const end = Math.max(start + 1, Math.floor(((x + 1) * n) / width));
    let max = 0;
    for (let i = start; i < end && i < n; i++) if (source[i] > max) max = source[i];
    out[x] = max;
  }
  return out;
}

// The light stream the studio decodes: MP3, which Chromium decodes about five
// times faster than Opus (bench/studio.py); the Ogg stream for stems made
// before MP3 previews existed, or for a browser without MP3.
const canMp3 = (() => {
  try { return !!new Audio().canPlayType("audio/mpeg"); } catch { return true; }
})();
export function streamUrl(stem) {
  return canMp3 && stem.url_mp3 ? stem.url_mp3 : stem.url;
}

export class StudioEngine {
  constructor() {
    const ctx = (this.ctx = new (window.AudioContext || window.webkitAudioContext)());
    this.stems = new Map();
    this.original = null;
    this.sources = [];
    this.playing = false;
    this.offset = 0;
    this.startedAt = 0;
    this.rate = 1;
    this.loop = { on: false, start: 0, end: 0 };
    this.mode = "remix"; // or "original" (A/B)
    this.listeners = new Set();

    this.remixBus = ctx.createGain();
    this.highpass = ctx.createBiquadFilter();
    this.highpass.type = "highpass";
    this.highpass.frequency.value = 1;
    this.lowpass = ctx.createBiquadFilter();
    this.lowpass.type = "lowpass";
    this.lowpass.frequency.value = ctx.sampleRate / 2;
    this.compressor = ctx.createDynamicsCompressor();
    this.fxOut = ctx.createGain();
    this.dry = ctx.createGain();
    this.delay = ctx.createDelay(2.5);
    this.delayFeedback = ctx.createGain();
    this.delayWet = ctx.createGain();
    this.reverb = ctx.createConvolver();
    this.reverbWet = ctx.createGain();
    this.remixOut = ctx.createGain();
    this.originalOut = ctx.createGain();
    this.master = ctx.createGain();
    this.analyser = ctx.createAnalyser();
    this.analyser.fftSize = 2048;

    this.remixBus.connect(this.highpass).connect(this.lowpass).connect(this.compressor);
    this.compressor.connect(this.dry).connect(this.fxOut);
    this.compressor.connect(this.delay);
    this.delay.connect(this.delayFeedback).connect(this.delay);
    this.delay.connect(this.delayWet).connect(this.fxOut);
    this.compressor.connect(this.reverb).connect(this.reverbWet).connect(this.fxOut);
    this.fxOut.connect(this.remixOut).connect(this.master);
    this.originalOut.connect(this.master);
    this.master.connect(this.analyser).connect(ctx.destination);
    this.originalOut.gain.value = 0;
    this._reverbRoom = null;
    this.setEffects({});
  }

  on(fn) { this.listeners.add(fn); return () => this.listeners.delete(fn); }
  emit(event) { for (const fn of this.listeners) fn(event); }

  get duration() {
    if (this.sections) return arrangedLength(this.sections);
    let d = 0;
    for (const s of this.stems.values()) d = Math.max(d, s.duration || (s.buffer ? s.buffer.duration : 0));
    return d;
  }

  async fetchBytes(url, onProgress) {
    // Streamed download of a compressed preview.
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`Could not load ${url} (${response.status})`);
    const total = Number(response.headers.get("Content-Length")) || 0;
    if (!(response.body && total && onProgress)) return await response.arrayBuffer();
    const reader = response.body.getReader();
    const chunks = [];
    let received = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.length;
      onProgress(received / total);
    }
    return joinChunks(chunks, received);
  }

  async fetchDecode(url, onProgress) {
    return await this.ctx.decodeAudioData(await this.fetchBytes(url, onProgress));
  }

  async loadStem(name, url, durationS, headUrl = "") {
    // Quick start: decode only the stream's first seconds, as soon as they have
    // arrived (a compressed stream cut anywhere decodes to exactly the first
    // samples of the whole), so play can begin at once; the download goes on,
    // and `loadRest` decodes the rest after. With `headUrl` (the page preloaded
    // it: `?head=N`, the first N bytes) the rest is one Range request.
    const gain = this.ctx.createGain();
    gain.connect(this.remixBus);
    const stem = { buffer: null, gain, duration: durationS || 0, complete: false, stream: null };
    this.stems.set(name, stem); // in the page's order, whichever download answers first
    const response = await fetch(headUrl || url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`Could not load ${url} (${response.status})`);
    const full = Number(response.headers.get("X-Full-Length")) || 0;
    if (headUrl && full) {
      const head = await response.arrayBuffer();
      stem.complete = head.byteLength >= full;
      // The rest is asked for now, but never waited for before the head plays.
      if (!stem.complete) stem.stream = this._restAfter(url, head, full);
      if (stem.stream) stem.stream.catch(() => {}); // then the stem keeps playing its head
      stem.buffer = await this.ctx.decodeAudioData(head.slice(0));
      stem.decodedBytes = head.byteLength;
      this.emit({ type: "stem", name });
      return stem.buffer;
    }
    // No head of its own (a server that ignored `?head`): the whole stream, read as it comes.
    const total = Number(response.headers.get("Content-Length")) || 0;
    const head = durationS ? Math.min(1, HEAD_SECONDS / durationS) : 1;
    if (head >= 0.8 || !total || !response.body) {
      stem.buffer = await this.ctx.decodeAudioData(await response.arrayBuffer());
      stem.complete = true;
    } else {
      const stream = byteStream(response.body.getReader(), total);
      stem.stream = Promise.resolve(stream);
      const wanted = Math.ceil(total * head);
      stem.buffer = await this.ctx.decodeAudioData(await stream.prefix(wanted));
      stem.decodedBytes = wanted;
    }
    this.emit({ type: "stem", name });
    return stem.buffer;
  }

  async _restAfter(url, head, full) {
    // The bytes after the preloaded head: a Range request, read as they arrive.
    const response = await fetch(url, {
      credentials: "same-origin",
      headers: { Range: `bytes=${head.byteLength}-` },
    });
    if (response.status === 206 && response.body) {
      return byteStream(response.body.getReader(), full, new Uint8Array(head));
    }
    if (!response.ok || !response.body) throw new Error(`Could not load ${url} (${response.status})`);
    return byteStream(response.body.getReader(), full); // the whole file again: start over
  }

  get complete() {
    // Every stem decoded whole (until then some play from a decoded prefix).
    return [...this.stems.values()].every((s) => s.complete);
  }

  async loadRest() {
    // Each quick-started stem, in parallel: longer prefixes as the bytes arrive,
    // then the whole, each swapped in sample-accurately while playing.
    await Promise.all([...this.stems].map(([name, stem]) => this._grow(name, stem)));
    this.emit({ type: "complete" });
  }

  async _grow(name, stem) {
    try {
      const stream = await stem.stream; // the download of the rest (null: nothing left)
      while (!stem.complete && stream) {
        await this._nextPrefix(stem, stream);
        const whole = stream.done || stream.received >= stream.total;
        // All here: the whole stream; else every byte that has arrived.
        const bytes = await stream.prefix(whole ? Infinity : stream.received);
        const buffer = await this.ctx.decodeAudioData(bytes);
        stem.decodedBytes = bytes.byteLength;
        stem.buffer = buffer;
        stem.complete = whole;
        if (this.playing) this._swapSource(name, buffer);
        this.emit({ type: "stem", name });
      }
    } catch {
      // The download broke off: the stem keeps playing what was decoded.
    }
    stem.stream = null;
  }

  _nextPrefix(stem, stream) {
    // The next decode: once GROWTH times the bytes decoded so far (or all) are
    // here, or sooner when playback nears the end of what is decoded.
    const target = Math.min(stream.total, stem.decodedBytes * GROWTH);
    return new Promise((resolve, reject) => {
      let waiting = true;
      const finish = (fn) => (value) => { if (waiting) { waiting = false; fn(value); } };
      stream.until(target).then(finish(resolve), finish(reject));
      const check = () => {
        if (!waiting) return;
        const left = stem.buffer.duration - this.position();
        if (this.playing && left < LOW_WATER_S && stream.received > stem.decodedBytes) finish(resolve)();
        else setTimeout(check, 100);
      };
      check();
    });
  }

  decodedSeconds(name) {
    const stem = this.stems.get(name);
    return stem && stem.buffer ? stem.buffer.duration : 0;
  }

  _swapSource(name, buffer) {
    if (this.sections && this.playing) {
      // Arranged playback: restart every piece from here with the full buffer.
      const at = this.position();
      this._stopSources();
      this._startSources(at);
      return;
    }
    const index = this.sources.findIndex((src) => src.stemName === name);
    if (index < 0) return;
    const when = this.ctx.currentTime + 0.05;
    const old = this.sources[index];
    const src = this._source(buffer, this.stems.get(name).gain, when, this.position(when));
    src.stemName = name;
    src.onended = old.onended;
    old.onended = null;
    old.stop(when);
    this.sources[index] = src;
  }

  async loadOriginal(url) {
    try {
      this.original = await this.fetchDecode(url);
    } catch {
      this.original = null; // A/B is then unavailable, the studio still works
    }
    if (this.original && this.playing) {
      // It arrived while the stems play (it loads after them): join in sync.
      const lead = 0.03;
      const at = this.position() + lead * this.rate;
      this.sources.push(this._source(this.original, this.originalOut, this.ctx.currentTime + lead, at));
    }
    return this.original;
  }

  position(at = this.ctx.currentTime) {
    if (!this.playing) return this.offset;
    let pos = this.offset + (Math.max(at, this.startedAt) - this.startedAt) * this.rate;
    if (this.loop.on && this.loop.end > this.loop.start && pos >= this.loop.end) {
      const len = this.loop.end - this.loop.start;
      pos = this.loop.start + ((pos - this.loop.start) % len);
    } else if (pos >= this.duration) {
      pos = this.duration;
    }
    return pos;
  }

  _source(buffer, dest, when, at) {
    const src = this.ctx.createBufferSource();
    src.buffer = buffer;
    src.playbackRate.value = this.rate;
    if (this.loop.on && this.loop.end > this.loop.start) {
      src.loop = true;
      src.loopStart = this.loop.start;
      src.loopEnd = this.loop.end;
    }
    src.connect(dest);
    src.start(when, Math.min(at, Math.max(0, buffer.duration - 0.001)));
    return src;
  }

  // The fan's chosen cover take (recipe.cover, remixing/engine/cover.py) plays with the
  // stems, into the same bus and effects. It lives on the output timeline of the tempo it
  // was sung at: position p is take time lead + latency + p / sung, and it plays at
  // rate / sung, so a later tempo change (varispeed here, a stretch in the export) keeps
  // each note on its beat. `url`: where the take's audio is (null: no take).
  async setCover(cover, url) {
    if (!this.coverGain) {
      this.coverGain = this.ctx.createGain();
      this.coverGain.connect(this.remixBus);
    }
    const audible = cover && !cover.mute ? dbToGain(cover.gain_db || 0) : 0;
    this.coverGain.gain.setTargetAtTime(audible, this.ctx.currentTime, 0.01);
    const key = cover && url ? JSON.stringify([url, cover.lead_s, cover.latency_ms, cover.sung_tempo_ratio]) : null;
    if (key === this._coverKey) return;
    this._coverKey = key;
    let take = null;
    if (key) {
      try {
        take = {
          buffer: await this._takeBuffer(url),
          startS: (cover.lead_s || 0) + (cover.latency_ms || 0) / 1000,
          sung: cover.sung_tempo_ratio || 1,
        };
      } catch {
        take = null; // the take could not be fetched: the stems play on without it
      }
      if (this._coverKey !== key) return; // another choice came in meanwhile
    }
    this.cover = take;
    if (this.playing) {
      const at = this.position();
      this._stopSources();
      this._startSources(at);
    }
    this.emit({ type: "cover" });
  }

  _takeBuffer(url) {
    this._takes = this._takes || new Map();
    if (!this._takes.has(url)) {
      const loading = this.fetchDecode(url);
      loading.catch(() => this._takes.delete(url));
      this._takes.set(url, loading);
    }
    return this._takes.get(url);
  }

  _coverSource(at, when) {
    const take = this.cover;
    if (!take) return null;
    const looped = this.loop.on && this.loop.end > this.loop.start;
    const plan = coverPlayback(
      { startS: take.startS, sung: take.sung, duration: take.buffer.duration },
      { at, rate: this.rate, loop: looped ? this.loop : null },
    );
    if (!plan) return null;
    const src = this.ctx.createBufferSource();
    src.buffer = take.buffer;
    src.playbackRate.value = plan.playbackRate;
    if (looped) {
      src.loop = true;
      src.loopStart = plan.loopStart;
      src.loopEnd = plan.loopEnd;
    }
    src.connect(this.coverGain);
    src.start(when, plan.offset);
    src.stemName = null;
    return src;
  }

  // The stored arrangement (recipe.arrangement): the preview plays its sections in order
  // (no crossfades; the export has them). Loops play the original order.
  setArrangement(arrangement) {
    const sections = arrangement && arrangement.sections && arrangement.sections.length ? arrangement.sections : null;
    if (JSON.stringify(sections) === JSON.stringify(this.sections)) return;
    const playing = this.playing;
    if (playing) this._stopSources();
    this.sections = sections;
    this.offset = Math.min(this.offset, this.duration);
    if (playing) this._startSources(Math.min(this.offset, Math.max(0, this.duration - 0.05)));
  }

  _arrangedSources(at, when) {
    this.sources = [];
    const buses = [...[...this.stems].map(([name, stem]) => [name, stem.buffer, stem.gain])];
    if (this.original) buses.push([null, this.original, this.originalOut]);
    for (const piece of arrangementSchedule(this.sections, at, this.rate)) {
      for (const [name, buffer, dest] of buses) {
        const src = this.ctx.createBufferSource();
        src.buffer = buffer;
        src.playbackRate.value = this.rate;
        src.connect(dest);
        src.start(when + piece.delay, piece.from, piece.duration);
        src.stemName = name;
        this.sources.push(src);
      }
    }
    const last = this.sources[this.sources.length - 1];
    if (last) last.onended = () => { if (this.playing && this.position() >= this.duration - 0.1) this.stop(true); };
    // The take follows the arranged timeline as it was sung over it (never the last source:
    // its end is not the track's).
    const take = this._coverSource(at, when);
    if (take) this.sources.unshift(take);
    this.startedAt = when;
    this.offset = at;
  }

  _startSources(at, when = this.ctx.currentTime + 0.03) {
    if (this.sections && !(this.loop.on && this.loop.end > this.loop.start)) {
      this._arrangedSources(at, when);
      return;
    }
    const make = (buffer, dest) => this._source(buffer, dest, when, at);
    this.sources = [];
    for (const [name, stem] of this.stems) {
      const src = make(stem.buffer, stem.gain);
      src.stemName = name;
      this.sources.push(src);
    }
    if (this.original) this.sources.push(make(this.original, this.originalOut));
    const take = this._coverSource(at, when);
    if (take) this.sources.push(take);
    const first = this.sources[0];
    // A quick-start stem ends early; only the real end of the track stops playback.
    const ended = () => {
      if (this.playing && !this.loop.on && this.position() >= this.duration - 0.1) this.stop(true);
    };
    if (first) first.onended = ended;
    this.startedAt = when;
    this.offset = at;
  }

  _stopSources() {
    for (const src of this.sources) {
      src.onended = null;
      try { src.stop(); } catch { /* never started */ }
      src.disconnect();
    }
    this.sources = [];
  }

  // `when`: a context time to start at (a cover take's count-in ends there), else now.
  async play(when) {
    if (this.playing || !this.stems.size) return;
    if (this.ctx.state !== "running") await this.ctx.resume();
    let at = this.offset;
    if (at >= this.duration - 0.01) at = this.loop.on ? this.loop.start : 0;
    const soonest = this.ctx.currentTime + 0.03;
    this._startSources(at, when && when > soonest ? when : soonest);
    this.playing = true;
    this.emit({ type: "play" });
  }

  pause() {
    if (!this.playing) return;
    this.offset = this.position();
    this._stopSources();
    this.playing = false;
    this.emit({ type: "pause" });
  }

  stop(ended = false) {
    this._stopSources();
    this.playing = false;
    this.offset = ended ? this.duration : 0;
    if (ended) this.offset = 0;
    this.emit({ type: "stop" });
  }

  toggle() { return this.playing ? this.pause() : this.play(); }

  seek(seconds) {
    const at = Math.max(0, Math.min(seconds, this.duration));
    if (this.playing) {
      this._stopSources();
      this._startSources(at);
    } else {
      this.offset = at;
    }
    this.emit({ type: "seek", at });
  }

  setLoop(on, start, end) {
    const pos = this.position();
    this.loop = { on: !!on, start: Math.max(0, start), end: Math.min(end, this.duration) };
    if (this.playing) {
      this._stopSources();
      let at = pos;
      if (this.loop.on && (at < this.loop.start || at >= this.loop.end)) at = this.loop.start;
      this._startSources(at);
    }
  }

  setMode(mode) {
    this.mode = mode === "original" && this.original ? "original" : "remix";
    const t = this.ctx.currentTime;
    this.remixOut.gain.setTargetAtTime(this.mode === "remix" ? 1 : 0, t, 0.015);
    this.originalOut.gain.setTargetAtTime(this.mode === "original" ? 1 : 0, t, 0.015);
    return this.mode;
  }

  setRate(tempoRatio, keyShift) {
    // Varispeed preview: tempo and key both move the playback rate.
    const rate = (tempoRatio || 1) * Math.pow(2, (keyShift || 0) / 12);
    if (Math.abs(rate - this.rate) < 1e-6) return;
    const pos = this.position();
    this.rate = rate;
    if (this.playing) {
      this._stopSources();
      this._startSources(pos);
    }
  }

  setStems(stems) {
    // stems: {name: {gain_db, mute, solo}}; mute wins, solo isolates (DAW rules).
    const anySolo = Object.values(stems).some((s) => s.solo);
    const t = this.ctx.currentTime;
    for (const [name, stem] of this.stems) {
      const s = stems[name] || { gain_db: 0, mute: false, solo: false };
      const audible = !s.mute && (s.solo || !anySolo);
      stem.gain.gain.setTargetAtTime(audible ? dbToGain(s.gain_db || 0) : 0, t, 0.01);
    }
  }

  setEffects(fx) {
    const t = this.ctx.currentTime;
    const nyquist = this.ctx.sampleRate / 2;
    this.highpass.frequency.setTargetAtTime(fx.highpass_hz || 1, t, 0.01);
    this.lowpass.frequency.setTargetAtTime(Math.min(fx.lowpass_hz || nyquist, nyquist), t, 0.01);
    const comp = fx.compressor;
    this.compressor.threshold.setTargetAtTime(comp ? comp.threshold_db : 0, t, 0.01);
    this.compressor.ratio.setTargetAtTime(comp ? comp.ratio : 1, t, 0.01);
    this.compressor.knee.value = comp ? 6 : 0;
    const delay = fx.delay;
    this.delay.delayTime.setTargetAtTime(delay ? delay.seconds : 0.25, t, 0.01);
    this.delayFeedback.gain.setTargetAtTime(delay ? delay.feedback : 0, t, 0.01);
    this.delayWet.gain.setTargetAtTime(delay ? delay.mix : 0, t, 0.01);
    const reverb = fx.reverb;
    if (reverb && this._reverbRoom !== reverb.room_size) {
      this.reverb.buffer = impulseResponse(this.ctx, reverb.room_size);
      this._reverbRoom = reverb.room_size;
    }
    this.reverbWet.gain.setTargetAtTime(reverb ? reverb.wet : 0, t, 0.01);
    const wet = (delay ? delay.mix : 0) + (reverb ? reverb.wet : 0);
    this.dry.gain.setTargetAtTime(Math.max(0.3, 1 - wet / 2), t, 0.01);
  }

  level() {
    // RMS of what the listener hears now (AnalyserNode).
    const data = new Float32Array(this.analyser.fftSize);
    this.analyser.getFloatTimeDomainData(data);
    let sum = 0;
    for (const v of data) sum += v * v;
    return Math.sqrt(sum / data.length);
  }
}
