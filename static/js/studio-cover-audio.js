// Sing your own cover, the signal side (no DOM): the click the studio plays to measure
// the round-trip latency, finding it again in the recording by cross-correlation (as
// remixing/engine/cover.py's latency_estimate does), and plain words for mic errors.

// Where the chosen take plays in the studio's transport (remixing/engine/cover.py places
// it the same way in the export). Position `at` (seconds of the track as the transport
// counts them) was sung at take time startS + at / sung, where startS is the count-in
// plus the latency and `sung` the tempo the fan sang over. Played at `rate`, the take
// runs rate / sung times as fast, so every note stays on the beat it was sung to.
// `loop`: {start, end} in transport seconds, or null. Returns the AudioBufferSource
// settings, or null when the take has ended before `at` (and nothing loops).
export function coverPlayback({ startS, sung, duration }, { at, rate, loop = null }) {
  const take = (position) => startS + position / sung;
  const from = take(at);
  if (!loop && from >= duration) return null;
  return {
    offset: Math.min(from, Math.max(0, duration - 0.001)),
    playbackRate: rate / sung,
    loopStart: loop ? take(loop.start) : null,
    loopEnd: loop ? take(loop.end) : null,
  };
}

// 5 ms of a decaying 2 kHz burst: short, bright, easy to find again.
export function clickSamples(sampleRate, hz = 2000) {
  const n = Math.round(0.005 * sampleRate);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    out[i] = Math.sin(2 * Math.PI * hz * t) * Math.exp(-t * 600);
  }
  return out;
}

// Seconds by which `reference` shows up after `scheduledS` in `recorded` (both at
// `sampleRate`), or null when no lag in [0, maxS] stands out (normalised peak < 0.3).
export function findLatency(reference, recorded, sampleRate, scheduledS, maxS = 1.0) {
  const m = reference.length;
  const start = Math.max(0, Math.round(scheduledS * sampleRate));
  const stop = Math.min(recorded.length - m, start + Math.round(maxS * sampleRate));
  if (m === 0 || stop < start) return null;
  let refEnergy = 0;
  for (let j = 0; j < m; j++) refEnergy += reference[j] * reference[j];
  let best = -1;
  let bestLag = -1;
  let bestScore = 0;
  for (let lag = start; lag <= stop; lag++) {
    let sum = 0;
    let energy = 0;
    for (let j = 0; j < m; j++) {
      const x = recorded[lag + j];
      sum += x * reference[j];
      energy += x * x;
    }
    const value = Math.abs(sum);
    if (value > best) {
      best = value;
      bestLag = lag;
      bestScore = energy > 0 ? value / Math.sqrt(refEnergy * energy) : 0;
    }
  }
  if (bestLag < 0 || bestScore < 0.3) return null;
  return (bestLag - start) / sampleRate;
}

// What the browser itself reports about its audio path, for when the click cannot be
// heard back (headphones on): output latency plus the microphone's input latency.
export function reportedLatency(ctx, track) {
  const settings = (track && track.getSettings && track.getSettings()) || {};
  const seconds = (ctx.baseLatency || 0) + (ctx.outputLatency || 0) + (settings.latency || 0);
  return Math.min(1, Math.max(0, seconds));
}

// Plain words for every way the microphone can fail.
export function micErrorMessage(error) {
  const name = (error && error.name) || "";
  if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") {
    return "You did not allow the microphone. Allow it for this site in your browser's settings (the icon next to the address), then try again.";
  }
  if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") {
    return "We could not find a microphone. Plug one in or connect a headset, then try again.";
  }
  if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") {
    return "Your microphone is busy or not working. Close other apps that use it, then try again.";
  }
  if (name === "Unsupported") {
    return "This browser cannot record audio here. Use a recent Chrome, Edge, Firefox or Safari.";
  }
  return "Recording did not work in this browser. Reload the page and try again.";
}

export function recordingSupported() {
  return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia && window.MediaRecorder);
}

// The container the browser records best, with a matching file name for the upload.
export function recorderFormat() {
  const candidates = [
    ["audio/webm;codecs=opus", "take.webm"],
    ["audio/ogg;codecs=opus", "take.ogg"],
    ["audio/webm", "take.webm"],
  ];
  for (const [type, name] of candidates) {
    if (window.MediaRecorder.isTypeSupported && window.MediaRecorder.isTypeSupported(type)) {
      return { type, name };
    }
  }
  return { type: "", name: "take.webm" };
}
