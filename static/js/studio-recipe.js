// Recipe helpers shared by the studio UI: the same rules as remixing/engine/recipe.py.

export const INAUDIBLE_DB = -40;

export function normalize(recipe, stemNames) {
  const r = JSON.parse(JSON.stringify(recipe || {}));
  const stems = {};
  for (const name of stemNames) {
    const s = (r.stems || {})[name] || {};
    stems[name] = { gain_db: s.gain_db ?? 0, mute: !!s.mute, solo: !!s.solo };
  }
  const fx = r.effects || {};
  const normalized = {
    version: 1,
    stems,
    tempo_ratio: r.tempo_ratio ?? 1,
    key_shift: r.key_shift ?? 0,
    effects: {
      highpass_hz: fx.highpass_hz ?? null,
      lowpass_hz: fx.lowpass_hz ?? null,
      reverb: fx.reverb ?? null,
      compressor: fx.compressor ?? null,
      delay: fx.delay ?? null,
    },
    fade_in_s: r.fade_in_s ?? 0,
    fade_out_s: r.fade_out_s ?? 0,
    region: r.region ?? null,
  };
  // Re-arranged sections (remixing/engine/arrangement.py), kept as the server sent
  // them; like the server's recipe_to_dict, absent when there are none.
  if (r.arrangement != null) normalized.arrangement = r.arrangement;
  // The fan's own vocal take (remixing/engine/cover.py), absent when there is none.
  // Always version 2: a take without the tempo it was sung at (version 1) was sung at
  // the recipe's own tempo, so a later tempo change stretches it with the track.
  if (r.cover != null) {
    const c = r.cover;
    normalized.cover = {
      version: 2,
      take: c.take,
      lead_s: c.lead_s ?? 0,
      latency_ms: c.latency_ms ?? 0,
      gain_db: c.gain_db ?? 0,
      mute: !!c.mute,
      sung_tempo_ratio: c.sung_tempo_ratio ?? normalized.tempo_ratio,
    };
  }
  return normalized;
}

function audible(recipe, name) {
  const s = recipe.stems[name];
  if (s.mute) return false;
  const anySolo = Object.values(recipe.stems).some((x) => x.solo);
  return s.solo || !anySolo;
}
const effectivelyAudible = (r, n) => audible(r, n) && r.stems[n].gain_db > INAUDIBLE_DB;

// {term: [field paths]} for every consent term the recipe relies on.
export function termFields(recipe) {
  const used = {};
  const names = Object.keys(recipe.stems);
  const changed = names.filter((n) => {
    const s = recipe.stems[n];
    return s.gain_db !== 0 || s.mute || s.solo;
  });
  if (changed.length) used.stem_volume = changed.map((n) => `stems.${n}`);
  if (recipe.tempo_ratio !== 1) used.tempo = ["tempo_ratio"];
  if (recipe.key_shift !== 0) used.key = ["key_shift"];
  const fx = ["highpass_hz", "lowpass_hz", "compressor", "delay", "reverb"].filter(
    (k) => recipe.effects[k] !== null && recipe.effects[k] !== undefined,
  );
  if (fx.length) used.effects = fx.map((k) => `effects.${k}`);
  if (recipe.arrangement) used.arrangement = ["arrangement"];
  if (names.includes("vocals")) {
    const others = names.filter((n) => n !== "vocals");
    const vocals = effectivelyAudible(recipe, "vocals");
    const othersOn = others.some((n) => effectivelyAudible(recipe, n));
    if (othersOn && !vocals) used.vocals_removed = ["stems.vocals"];
    if (vocals && !othersOn) used.vocals_isolated = ["stems.vocals"];
  }
  if (recipe.cover) used.covers = ["cover"];
  return used;
}

export function forbiddenUses(recipe, forbidden) {
  const problems = [];
  for (const [term, fields] of Object.entries(termFields(recipe))) {
    if (forbidden[term]) for (const f of fields) problems.push([f, forbidden[term]]);
  }
  return problems;
}

// What a cover cannot be combined with (remixing/engine/cover.py, cover_conflicts): the
// same [field, message] pairs the server refuses the recipe with.
export const COVER_KEY_SHIFT =
  "A cover vocal is recorded against the original key: reset the key shift to record or keep a cover.";
export const COVER_REGION =
  "A cover vocal is placed from the start of the song: turn off the export region to record or keep a cover.";
export function coverProblems(recipe) {
  if (!recipe.cover) return [];
  const problems = [];
  if (recipe.key_shift !== 0) problems.push(["key_shift", COVER_KEY_SHIFT]);
  if (recipe.region) problems.push(["region", COVER_REGION]);
  return problems;
}

// A preset applied over the current recipe: the preset's settings, and the fan's cover
// take kept with the tempo it was sung at (remixing/engine/presets.py, preset_keep_cover).
export function withPreset(current, preset, stemNames) {
  const next = normalize(preset, stemNames);
  if (current && current.cover) next.cover = normalize(current, stemNames).cover;
  return next;
}
