// Labels every table cell with its column's header (data-label), so that on a
// phone, where CSS stacks each row as a card, every value keeps its name.
// Templates may set data-label themselves; this only fills what is missing.
// Stacked with CSS `display: block`, some browsers (Safari) forget that a table
// is a table; explicit roles keep rows, headers and cells announced as such.
// A table that still scrolls sideways on a wide screen gets keyboard access.
function headersOf(table) {
  const row = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
  if (!row) return [];
  const labels = [];
  for (const cell of row.cells) {
    const text = cell.textContent.replace(/\s+/g, " ").trim();
    for (let i = 0; i < (cell.colSpan || 1); i += 1) labels.push(text);
  }
  return labels;
}

function keepSemantics(table) {
  table.setAttribute("role", "table");
  for (const group of table.querySelectorAll(":scope > thead, :scope > tbody, :scope > tfoot")) group.setAttribute("role", "rowgroup");
  for (const row of table.rows) {
    row.setAttribute("role", "row");
    for (const cell of row.cells) {
      if (cell.tagName === "TD") cell.setAttribute("role", "cell");
      else cell.setAttribute("role", cell.scope === "row" || (cell.parentElement.parentElement.tagName !== "THEAD" && cell.cellIndex === 0) ? "rowheader" : "columnheader");
    }
  }
}

function labelTable(table) {
  keepSemantics(table);
  const labels = headersOf(table);
  if (!labels.length) return;
  for (const body of table.tBodies) {
    for (const row of body.rows) {
      let column = 0;
      for (const cell of row.cells) {
        if (!cell.hasAttribute("data-label") && cell.colSpan < labels.length) {
          cell.setAttribute("data-label", labels[column] || "");
        }
        column += cell.colSpan || 1;
      }
    }
  }
}

function scrollableRegions() {
  for (const wrap of document.querySelectorAll(".table-wrap")) {
    const scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
    if (scrolls && !wrap.hasAttribute("tabindex")) {
      wrap.setAttribute("tabindex", "0");
      wrap.setAttribute("role", "region");
      const caption = wrap.querySelector("caption");
      const heading = wrap.closest("section")?.querySelector("h2, h3");
      const name = (caption || heading)?.textContent.trim();
      wrap.setAttribute("aria-label", name || "Table");
    }
  }
}

document.querySelectorAll("table").forEach(labelTable);
scrollableRegions();
window.addEventListener("resize", scrollableRegions);
