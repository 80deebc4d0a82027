// The studio preview's arrangement schedule (static/js/studio-arrangement.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { arrangedLength, arrangementSchedule } from "../../../static/js/studio-arrangement.js";

const SECTIONS = [
  { start_s: 8, end_s: 16 },
  { start_s: 0, end_s: 8 },
  { start_s: 8, end_s: 16 },
];

test("the arranged timeline is as long as its sections", () => {
  assert.equal(arrangedLength(SECTIONS), 24);
  assert.equal(arrangedLength([]), 0);
});

test("from the start, every section plays in order, back to back", () => {
  assert.deepEqual(arrangementSchedule(SECTIONS, 0), [
    { from: 8, duration: 8, delay: 0 },
    { from: 0, duration: 8, delay: 8 },
    { from: 8, duration: 8, delay: 16 },
  ]);
});

test("from the middle of a section, the rest of it, then the next ones", () => {
  assert.deepEqual(arrangementSchedule(SECTIONS, 10), [
    { from: 2, duration: 6, delay: 0 },
    { from: 8, duration: 8, delay: 6 },
  ]);
});

test("varispeed: the delays shrink with the playback rate", () => {
  const pieces = arrangementSchedule(SECTIONS, 0, 2);
  assert.deepEqual(pieces.map((p) => p.delay), [0, 4, 8]);
});

test("past the end, nothing plays", () => {
  assert.deepEqual(arrangementSchedule(SECTIONS, 24), []);
});
