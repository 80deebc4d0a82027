// Clearmix studio audio engine: stems played in sync with the Web Audio API.
// No framework, no CDN. One AudioContext; every stem is an AudioBufferSource
// started at the same context time, so they never drift apart.

export const dbToGain = (db) => Math.pow(10, db / 20);

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
    let d = 0;
    for (const s of this.stems.values()) d = Math.max(d, s.buffer.duration);
    return d;
  }

  async fetchDecode(url, onProgress) {
    // Streamed download of the compressed preview, then one decode.
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`Could not load ${url} (${response.status})`);
    const total = Number(response.headers.get("Content-Length")) || 0;
    let bytes;
    if (response.body && total && onProgress) {
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
      bytes = new Uint8Array(received);
      let pos = 0;
      for (const c of chunks) { bytes.set(c, pos); pos += c.length; }
      bytes = bytes.buffer;
    } else {
      bytes = await response.arrayBuffer();
    }
    return await this.ctx.decodeAudioData(bytes);
  }

  async loadStem(name, url, onProgress) {
    const buffer = await this.fetchDecode(url, onProgress);
    const gain = this.ctx.createGain();
    gain.connect(this.remixBus);
    this.stems.set(name, { buffer, gain });
    return buffer;
  }

  async loadOriginal(url) {
    try {
      this.original = await this.fetchDecode(url);
    } catch (error) {
      this.original = null; // A/B is then unavailable, the studio still works
    }
    return this.original;
  }

  position() {
    if (!this.playing) return this.offset;
    let pos = this.offset + (this.ctx.currentTime - this.startedAt) * this.rate;
    if (this.loop.on && this.loop.end > this.loop.start && pos >= this.loop.end) {
      const len = this.loop.end - this.loop.start;
      pos = this.loop.start + ((pos - this.loop.start) % len);
    } else if (pos >= this.duration) {
      pos = this.duration;
    }
    return pos;
  }

  _startSources(at) {
    const when = this.ctx.currentTime + 0.03;
    const make = (buffer, dest) => {
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
    };
    this.sources = [];
    for (const stem of this.stems.values()) this.sources.push(make(stem.buffer, stem.gain));
    if (this.original) this.sources.push(make(this.original, this.originalOut));
    const first = this.sources[0];
    if (first) first.onended = () => { if (this.playing && !this.loop.on) this.stop(true); };
    this.startedAt = when;
    this.offset = at;
  }

  _stopSources() {
    for (const src of this.sources) {
      src.onended = null;
      try { src.stop(); } catch (e) { /* never started */ }
      src.disconnect();
    }
    this.sources = [];
  }

  async play() {
    if (this.playing || !this.stems.size) return;
    if (this.ctx.state !== "running") await this.ctx.resume();
    let at = this.offset;
    if (at >= this.duration - 0.01) at = this.loop.on ? this.loop.start : 0;
    this._startSources(at);
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
