// Clock text for the studio's transport ("m:ss"). Never negative, never NaN:
// the playhead can read a hair below zero (or nothing at all) the moment
// playback starts, which once showed "-1:-1".
export function formatClock(seconds) {
  const s = Number.isFinite(seconds) && seconds > 0 ? Math.floor(seconds) : 0;
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
