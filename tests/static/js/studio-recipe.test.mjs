// The studio's recipe rules (static/js/studio-recipe.js), in node's test runner.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  COVER_KEY_SHIFT,
  COVER_REGION,
  INAUDIBLE_DB,
  coverProblems,
  forbiddenUses,
  normalize,
  termFields,
  withPreset,
} from "../../../static/js/studio-recipe.js";

const STEMS = ["bass", "drums", "other", "vocals"];

test("normalize fills every default and keeps only the known stems", () => {
  const r = normalize({ stems: { bass: { gain_db: -3 }, kazoo: { gain_db: 5 } } }, STEMS);
  assert.deepEqual(Object.keys(r.stems), STEMS);
  assert.deepEqual(r.stems.bass, { gain_db: -3, mute: false, solo: false });
  assert.deepEqual(r.stems.vocals, { gain_db: 0, mute: false, solo: false });
  assert.equal(r.version, 1);
  assert.equal(r.tempo_ratio, 1);
  assert.equal(r.key_shift, 0);
  assert.deepEqual(r.effects, {
    highpass_hz: null,
    lowpass_hz: null,
    reverb: null,
    compressor: null,
    delay: null,
  });
  assert.equal(r.fade_in_s, 0);
  assert.equal(r.region, null);
});

test("normalize never shares objects with its input", () => {
  const input = { stems: { bass: { gain_db: -1 } }, effects: { reverb: { wet: 0.2 } } };
  const r = normalize(input, STEMS);
  r.effects.reverb.wet = 0.9;
  assert.equal(input.effects.reverb.wet, 0.2);
});

test("an untouched recipe relies on no term", () => {
  assert.deepEqual(termFields(normalize({}, STEMS)), {});
});

test("each change names the term it relies on and the fields that use it", () => {
  const r = normalize(
    {
      stems: { drums: { mute: true } },
      tempo_ratio: 1.1,
      key_shift: -2,
      effects: { reverb: { room_size: 0.5, wet: 0.3 }, highpass_hz: 120 },
    },
    STEMS,
  );
  assert.deepEqual(termFields(r), {
    stem_volume: ["stems.drums"],
    tempo: ["tempo_ratio"],
    key: ["key_shift"],
    effects: ["effects.highpass_hz", "effects.reverb"],
  });
});

test("vocals muted while the band plays: vocals removed", () => {
  const r = normalize({ stems: { vocals: { mute: true } } }, STEMS);
  assert.deepEqual(termFields(r).vocals_removed, ["stems.vocals"]);
  assert.equal(termFields(r).vocals_isolated, undefined);
});

test("vocals soloed: vocals isolated; at or below the inaudible level counts as off", () => {
  const solo = normalize({ stems: { vocals: { solo: true } } }, STEMS);
  assert.deepEqual(termFields(solo).vocals_isolated, ["stems.vocals"]);
  const quiet = {};
  for (const name of ["bass", "drums", "other"]) quiet[name] = { gain_db: INAUDIBLE_DB };
  const isolated = normalize({ stems: quiet }, STEMS);
  assert.deepEqual(termFields(isolated).vocals_isolated, ["stems.vocals"]);
  const barely = {};
  for (const name of ["bass", "drums", "other"]) barely[name] = { gain_db: INAUDIBLE_DB + 0.5 };
  assert.equal(termFields(normalize({ stems: barely }, STEMS)).vocals_isolated, undefined);
});

test("without a vocals stem neither vocals term applies", () => {
  const r = normalize({ stems: { bass: { mute: true } } }, ["bass", "drums"]);
  assert.deepEqual(termFields(r), { stem_volume: ["stems.bass"] });
});

test("forbiddenUses lists each field that relies on a forbidden term, with the reason", () => {
  const r = normalize({ tempo_ratio: 0.9, stems: { bass: { gain_db: 2 } } }, STEMS);
  const forbidden = { tempo: "The artist does not allow tempo changes." };
  assert.deepEqual(forbiddenUses(r, forbidden), [
    ["tempo_ratio", "The artist does not allow tempo changes."],
  ]);
  assert.deepEqual(forbiddenUses(r, {}), []);
});

const COVER = { version: 1, take: "c0".repeat(16), lead_s: 2, latency_ms: 35, gain_db: -3 };

test("a preset applied over a recipe with a cover keeps the fan's take", () => {
  const current = normalize({ stems: { drums: { mute: true } }, cover: COVER }, STEMS);
  const preset = { version: 1, stems: { drums: { gain_db: -4 } }, tempo_ratio: 1, fade_in_s: 1 };
  const next = withPreset(current, preset, STEMS);
  assert.deepEqual(next.cover, { ...COVER, version: 2, mute: false, sung_tempo_ratio: 1 });
  assert.deepEqual(next.stems.drums, { gain_db: -4, mute: false, solo: false });
  assert.equal(next.fade_in_s, 1);
  assert.equal("cover" in withPreset(normalize({}, STEMS), preset, STEMS), false);
});

test("a preset that changes the tempo keeps the tempo the take was sung at", () => {
  // Sung at 0.9; a version 1 cover counts as sung at the recipe's tempo when loaded.
  const current = normalize({ tempo_ratio: 0.9, cover: COVER }, STEMS);
  assert.equal(current.cover.sung_tempo_ratio, 0.9);
  const next = withPreset(current, { version: 1, tempo_ratio: 1.1 }, STEMS);
  assert.equal(next.tempo_ratio, 1.1);
  assert.equal(next.cover.sung_tempo_ratio, 0.9);
});

test("a cover with a key shift or an export region is refused in plain words", () => {
  const region = { start_s: 30, end_s: 90 };
  assert.deepEqual(coverProblems(normalize({ key_shift: -2, cover: COVER }, STEMS)), [
    ["key_shift", COVER_KEY_SHIFT],
  ]);
  assert.deepEqual(coverProblems(normalize({ region, cover: COVER }, STEMS)), [["region", COVER_REGION]]);
  assert.match(COVER_KEY_SHIFT, /reset the key shift/);
  assert.deepEqual(coverProblems(normalize({ key_shift: -2, region }, STEMS)), []);
  assert.deepEqual(coverProblems(normalize({ cover: COVER }, STEMS)), []);
});
