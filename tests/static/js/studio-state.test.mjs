// The studio's undo/redo history (static/js/studio-state.js), in node's test runner.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  HISTORY_LIMIT,
  createHistory,
  forgetTake,
  record,
  stepBack,
  stepForward,
} from "../../../static/js/studio-state.js";

const recipe = (gain) => ({ version: 1, stems: { bass: { gain_db: gain, mute: false, solo: false } } });

test("undo returns the recipe before the change, redo the change again", () => {
  const history = createHistory();
  let current = recipe(0);
  record(history, JSON.stringify(current));
  current = recipe(-6);
  const before = stepBack(history, current);
  assert.deepEqual(before, recipe(0));
  assert.deepEqual(stepForward(history, before), recipe(-6));
  assert.equal(history.redo.length, 0);
});

test("nothing to undo or redo gives null and changes nothing", () => {
  const history = createHistory();
  assert.equal(stepBack(history, recipe(0)), null);
  assert.equal(stepForward(history, recipe(0)), null);
  assert.deepEqual(history, { undo: [], redo: [] });
});

test("a new change forgets what could have been redone", () => {
  const history = createHistory();
  record(history, JSON.stringify(recipe(0)));
  const undone = stepBack(history, recipe(-3));
  assert.equal(history.redo.length, 1);
  record(history, JSON.stringify(undone));
  assert.equal(history.redo.length, 0);
  assert.equal(stepForward(history, recipe(-9)), null);
});

test("undo walks back through every change in order", () => {
  const history = createHistory();
  let current = recipe(0);
  for (const gain of [-1, -2, -3]) {
    record(history, JSON.stringify(current));
    current = recipe(gain);
  }
  const seen = [];
  for (let back = stepBack(history, current); back; back = stepBack(history, current)) {
    seen.push(back.stems.bass.gain_db);
    current = back;
  }
  assert.deepEqual(seen, [-2, -1, 0]);
});

test("only the last HISTORY_LIMIT changes are kept", () => {
  const history = createHistory();
  for (let n = 0; n < HISTORY_LIMIT + 5; n++) record(history, JSON.stringify(recipe(-n)));
  assert.equal(history.undo.length, HISTORY_LIMIT);
  assert.deepEqual(JSON.parse(history.undo[0]), recipe(-5));
});

test("snapshots are copies: changing the current recipe does not change history", () => {
  const history = createHistory();
  const current = recipe(0);
  record(history, JSON.stringify(current));
  current.stems.bass.gain_db = 12;
  assert.deepEqual(stepBack(history, current), recipe(0));
});

test("a deleted take leaves every remembered recipe, and nothing else does", () => {
  const history = createHistory();
  const withTake = (take, gain) => ({ ...recipe(gain), cover: { version: 2, take, lead_s: 1 } });
  record(history, JSON.stringify(withTake(7, 0)));
  record(history, JSON.stringify(withTake(8, -1)));
  record(history, JSON.stringify(recipe(-2)));
  stepBack(history, withTake(7, -3)); // the newest state goes to redo, still choosing take 7
  forgetTake(history, 7);
  assert.deepEqual(history.undo.map((s) => JSON.parse(s)), [recipe(0), withTake(8, -1)]);
  assert.deepEqual(history.redo.map((s) => JSON.parse(s)), [recipe(-3)]);
});
