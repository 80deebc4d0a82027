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
  return {
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
  if (names.includes("vocals")) {
    const others = names.filter((n) => n !== "vocals");
    const vocals = effectivelyAudible(recipe, "vocals");
    const othersOn = others.some((n) => effectivelyAudible(recipe, n));
    if (othersOn && !vocals) used.vocals_removed = ["stems.vocals"];
    if (vocals && !othersOn) used.vocals_isolated = ["stems.vocals"];
  }
  return used;
}

export function forbiddenUses(recipe, forbidden) {
  const problems = [];
  for (const [term, fields] of Object.entries(termFields(recipe))) {
    if (forbidden[term]) for (const f of fields) problems.push([f, forbidden[term]]);
  }
  return problems;
}
