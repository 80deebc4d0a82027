// The studio's latency measurement (static/js/studio-cover-audio.js), in node's test
// runner: the same click, found again to the sample, as remixing/engine/cover.py does.
import assert from "node:assert/strict";
import { test } from "node:test";

import { clickSamples, findLatency, micErrorMessage } from "../../../static/js/studio-cover-audio.js";

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
