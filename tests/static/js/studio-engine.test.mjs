// The studio engine's download reader (static/js/studio-engine.js: byteStream),
// in node's test runner: prefixes as bytes arrive, whole at the end.
import assert from "node:assert/strict";
import { test } from "node:test";

import { byteStream } from "../../../static/js/studio-engine.js";

function reader(parts) {
  // A fetch body reader that hands out `parts` one read at a time.
  let i = 0;
  return {
    async read() {
      return i < parts.length ? { done: false, value: Uint8Array.from(parts[i++]) } : { done: true };
    },
  };
}

test("a prefix resolves as soon as its bytes are here and is cut exactly", async () => {
  let release;
  const gate = new Promise((r) => { release = r; });
  const parts = [[1, 2, 3], [4, 5, 6]];
  let i = 0;
  const r = {
    async read() {
      if (i === 2) { await gate; return { done: true }; } // the rest is slow to come
      return { done: false, value: Uint8Array.from(parts[i++]) };
    },
  };
  const stream = byteStream(r, 9);
  const head = new Uint8Array(await stream.prefix(4));
  assert.deepEqual([...head], [1, 2, 3, 4]);
  assert.equal(stream.received, 6);
  assert.equal(stream.done, false);
  release();
  await stream.until(Infinity);
  assert.equal(stream.done, true);
});

test("each prefix is a fresh copy (decodeAudioData detaches what it is given)", async () => {
  const stream = byteStream(reader([[1, 2], [3, 4]]), 4);
  const a = await stream.prefix(2);
  const b = await stream.prefix(2);
  assert.notEqual(a, b);
  assert.deepEqual([...new Uint8Array(b)], [1, 2]);
});

test("the whole stream at the end, even when Content-Length was wrong", async () => {
  const stream = byteStream(reader([[1, 2], [3]]), 10);
  await stream.until(6);
  assert.equal(stream.done, true);
  assert.deepEqual([...new Uint8Array(await stream.prefix(Infinity))], [1, 2, 3]);
});

test("a broken download rejects what waits on it", async () => {
  const r = { async read() { throw new Error("network"); } };
  const stream = byteStream(r, 10);
  await assert.rejects(stream.until(5), /network/);
});
