// "Describe your remix": a sentence -> the server's understood changes -> the fan edits or
// unticks them -> applied as one undoable edit (studio.js listens for studio:apply-recipe).

const config = JSON.parse(document.getElementById("studio-config").textContent);
const root = document.querySelector("[data-studio]");
const box = document.querySelector("[data-describe]");
const $ = (sel) => box.querySelector(sel);
const csrf = () => (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";

const REASONS = {
  refused: "Not something Clearmix does",
  forbidden: "Not allowed by the artist's terms",
  unavailable: "Not possible for this track",
  unknown: "Not understood",
};

let understood = [];

function currentRecipe() {
  const studio = window.__studio;
  return studio ? JSON.parse(JSON.stringify(studio.recipe)) : config.recipe;
}

function status(text) { $("[data-describe-status]").textContent = text; }

function valueInput(change, index) {
  // Numbers are editable; tempo is shown as a percentage of the original.
  if (typeof change.value !== "number") return null;
  const percent = change.unit === "x";
  const input = document.createElement("input");
  input.type = "number";
  input.id = `describe-value-${index}`;
  input.dataset.describeValue = String(index);
  input.step = percent ? "1" : String(change.step ?? "any");
  if (change.min !== undefined && change.min !== null) input.min = String(percent ? change.min * 100 : change.min);
  if (change.max !== undefined && change.max !== null) input.max = String(percent ? change.max * 100 : change.max);
  input.value = String(percent ? Math.round(change.value * 1000) / 10 : change.value);
  const label = document.createElement("label");
  label.htmlFor = input.id;
  label.className = "visually-hidden";
  label.textContent = `${change.label}: value in ${percent ? "percent" : change.unit}`;
  const unit = document.createElement("span");
  unit.className = "muted small";
  unit.textContent = percent ? "%" : change.unit;
  unit.setAttribute("aria-hidden", "true");
  return [label, input, unit];
}

function showChanges(body) {
  understood = body.changes;
  const list = $("[data-describe-changes]");
  list.innerHTML = "";
  body.changes.forEach((change, index) => {
    const li = document.createElement("li");
    li.className = "describe-change";
    li.dataset.path = change.path;
    const check = document.createElement("input");
    check.type = "checkbox";
    check.checked = true;
    check.id = `describe-change-${index}`;
    check.dataset.describeInclude = String(index);
    const label = document.createElement("label");
    label.htmlFor = check.id;
    label.textContent = change.label;
    const words = document.createElement("span");
    words.className = "describe-words";
    words.textContent = `(“${change.words}”)`;
    li.append(check, label);
    const editor = valueInput(change, index);
    if (editor) li.append(...editor);
    li.append(words);
    list.append(li);
  });
  $("[data-describe-empty]").hidden = body.changes.length > 0;
  const skipped = $("[data-describe-skipped-list]");
  skipped.innerHTML = "";
  for (const item of body.not_honoured) {
    const li = document.createElement("li");
    li.dataset.reason = item.reason;
    const reason = document.createElement("span");
    reason.className = "describe-reason";
    reason.textContent = `${REASONS[item.reason] || item.reason}: `;
    li.append(reason, document.createTextNode(`“${item.words}” — ${item.message}`));
    skipped.append(li);
  }
  $("[data-describe-skipped]").hidden = body.not_honoured.length === 0;
  $("[data-describe-apply]").disabled = body.changes.length === 0;
  $("[data-describe-result]").hidden = false;
  const n = body.changes.length;
  status(`${n} change${n === 1 ? "" : "s"} understood${body.not_honoured.length ? `, ${body.not_honoured.length} not possible` : ""}. Review them, then apply.`);
}

function setPath(recipe, path, value) {
  const parts = path.split(".");
  let node = recipe;
  for (const part of parts.slice(0, -1)) {
    if (!node[part] || typeof node[part] !== "object") node[part] = {};
    node = node[part];
  }
  node[parts[parts.length - 1]] = value;
}

function chosenValue(change, index) {
  const input = box.querySelector(`[data-describe-value="${index}"]`);
  if (!input) return change.value;
  const number = Number(input.value);
  if (!Number.isFinite(number)) return change.value;
  return change.unit === "x" ? Math.round(number * 10) / 1000 : number;
}

function apply() {
  const recipe = currentRecipe();
  let count = 0;
  understood.forEach((change, index) => {
    if (!box.querySelector(`[data-describe-include="${index}"]`).checked) return;
    setPath(recipe, change.path, chosenValue(change, index));
    count += 1;
  });
  if (!count) { status("Nothing ticked, so nothing changed."); return; }
  root.dispatchEvent(new CustomEvent("studio:apply-recipe", { detail: { recipe } }));
  close();
  status(`Applied ${count} change${count === 1 ? "" : "s"}. Undo takes them all back.`);
}

function close() {
  understood = [];
  $("[data-describe-result]").hidden = true;
  $("[data-describe-changes]").innerHTML = "";
}

async function submit(event) {
  event.preventDefault();
  const text = $("[data-describe-text]").value.trim();
  if (!text) { status("Type what you would like first."); $("[data-describe-text]").focus(); return; }
  const button = $("[data-describe-submit]");
  button.disabled = true;
  status("Reading…");
  try {
    const response = await fetch(config.urls.describe, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), Accept: "application/json" },
      body: JSON.stringify({ text, recipe: currentRecipe() }),
    });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      close();
      status((body && body.error && body.error.message) || `Could not read that (the server said ${response.status}).`);
      return;
    }
    showChanges(body);
    const first = box.querySelector("[data-describe-include]") || $("[data-describe-apply]");
    first.focus();
  } catch {
    status("Could not reach Clearmix; check your connection and try again.");
  } finally {
    button.disabled = false;
  }
}

if (box && config.urls.describe) {
  $("[data-describe-form]").addEventListener("submit", submit);
  $("[data-describe-apply]").addEventListener("click", apply);
  $("[data-describe-cancel]").addEventListener("click", () => { close(); status("Nothing changed."); });
}
