// The preview of a stored arrangement (remixing/engine/arrangement.py renders it for the
// export): which part of the original plays when. No DOM, so node's test runner loads it.

// Sections as [{start_s, end_s}] -> the arranged timeline's length in seconds.
export function arrangedLength(sections) {
  return sections.reduce((sum, s) => sum + Math.max(0, s.end_s - s.start_s), 0);
}

// From arranged position `at` (seconds of the arranged timeline), the pieces of the
// original to play in order: [{from, duration, delay}], `delay` in context seconds after
// the start at playback `rate` (varispeed, as the preview plays tempo and key).
export function arrangementSchedule(sections, at, rate = 1) {
  const pieces = [];
  let position = 0;
  let delay = 0;
  for (const section of sections) {
    const length = Math.max(0, section.end_s - section.start_s);
    if (position + length > at + 1e-9) {
      const skip = Math.max(0, at - position);
      const duration = length - skip;
      pieces.push({ from: section.start_s + skip, duration, delay });
      delay += duration / rate;
    }
    position += length;
  }
  return pieces;
}
