// The studio's latency measurement (static/js/studio-cover-audio.js), in node's test
// runner: the same click, found again to the sample, as remixing/engine/cover.py does.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  clickSamples,
  coverPlayback,
  findLatency,
  micErrorMessage,
} from "../../../static/js/studio-cover-audio.js";

const SR = 48000;

function recordingWithClick(latencyS, scheduledS, { noise = 0.01, gain = 0.3 } = {}) {
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 2;
  const out = new Float32Array(SR * 2).map(() => noise * random());
  const click = clickSamples(SR);
  const at = Math.round((scheduledS + latencyS) * SR);
  for (let i = 0; i < click.length; i++) out[at + i] += gain * click[i];
  return out;
}

for (const ms of [0, 12.5, 41.3, 180, 420]) {
  test(`a click ${ms} ms late is found to the sample`, () => {
    const found = findLatency(clickSamples(SR), recordingWithClick(ms / 1000, 0.4), SR, 0.4);
    assert.ok(found !== null);
    assert.ok(Math.abs(found * SR - (ms / 1000) * SR) <= 1, `found ${found * 1000} ms`);
  });
}

test("no click heard means no figure rather than a guess", () => {
  assert.equal(findLatency(clickSamples(SR), new Float32Array(SR * 2), SR, 0.4), null);
  const noise = recordingWithClick(0.1, 0.4, { noise: 0.2, gain: 0 });
  assert.equal(findLatency(clickSamples(SR), noise, SR, 0.4), null);
});

test("every microphone failure has plain words", () => {
  assert.match(micErrorMessage({ name: "NotAllowedError" }), /did not allow the microphone/);
  assert.match(micErrorMessage({ name: "NotFoundError" }), /could not find a microphone/);
  assert.match(micErrorMessage({ name: "NotReadableError" }), /busy/);
  assert.match(micErrorMessage({ name: "Unsupported" }), /cannot record audio/);
  assert.match(micErrorMessage(new Error("x")), /Reload the page/);
});

test("the chosen take plays from where the transport is, at the tempo it was sung", () => {
  // Sung at 1.0 after 2 s of count-in and 40 ms of latency; the track's beat 3 (1.5 s).
  const take = { startS: 2.04, sung: 1, duration: 10 };
  const same = coverPlayback(take, { at: 1.5, rate: 1 });
  assert.deepEqual(same, { offset: 3.54, playbackRate: 1, loopStart: null, loopEnd: null });
  for (const rate of [0.85, 1.15]) {
    // The transport reaches beat 3 after 1.5 / rate seconds; so must the take's note.
    const plan = coverPlayback(take, { at: 0, rate });
    const noteAt = (3.54 - plan.offset) / plan.playbackRate;
    assert.ok(Math.abs(noteAt - 1.5 / rate) < 1e-9, `${rate}: ${noteAt}`);
  }
});

test("a take sung at another tempo, in a loop, and past its end", () => {
  const take = { startS: 1, sung: 0.8, duration: 4 };
  const plan = coverPlayback(take, { at: 0.8, rate: 1.2, loop: { start: 0.4, end: 1.6 } });
  const close = (a, b) => assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);
  close(plan.offset, 2);
  close(plan.playbackRate, 1.5);
  close(plan.loopStart, 1.5);
  close(plan.loopEnd, 3);
  assert.equal(coverPlayback(take, { at: 2.5, rate: 1 }), null); // 1 + 3.1 s: the take is over
});
