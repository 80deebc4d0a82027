// The studio's undo/redo history: recipe snapshots (JSON strings), no DOM, so
// node's test runner can load it (tests/static/js/studio-state.test.mjs).

export const HISTORY_LIMIT = 200;

export function createHistory() {
  return { undo: [], redo: [] };
}

// A committed change: remember the recipe as it was (a JSON snapshot), keep
// the last HISTORY_LIMIT of them, and forget what could have been redone.
export function record(history, snapshot) {
  history.undo.push(snapshot);
  if (history.undo.length > HISTORY_LIMIT) history.undo.shift();
  history.redo.length = 0;
}

// The recipe before `current`, or null when there is nothing to undo.
export function stepBack(history, current) {
  if (!history.undo.length) return null;
  history.redo.push(JSON.stringify(current));
  return JSON.parse(history.undo.pop());
}

// The recipe undone last, or null when there is nothing to redo.
export function stepForward(history, current) {
  if (!history.redo.length) return null;
  history.undo.push(JSON.stringify(current));
  return JSON.parse(history.redo.pop());
}

// A take deleted for good: no snapshot may bring it back, so every remembered
// recipe that chose it keeps everything else and loses its cover vocal.
export function forgetTake(history, takeId) {
  for (const stack of [history.undo, history.redo]) {
    stack.forEach((snapshot, i) => {
      const recipe = JSON.parse(snapshot);
      if (recipe.cover && recipe.cover.take === takeId) {
        delete recipe.cover;
        stack[i] = JSON.stringify(recipe);
      }
    });
  }
}
