// Small enhancements of the remix pages: live render progress, copy links, play counts.
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

for (const button of document.querySelectorAll("[data-copy]")) {
  button.addEventListener("click", async () => {
    const input = document.querySelector(button.dataset.copy);
    const status = button.closest("section, div, article").parentElement.querySelector("[data-copy-status]") || document.querySelector("[data-copy-status]");
    try {
      await navigator.clipboard.writeText(input.value);
      if (status) status.textContent = "Link copied.";
    } catch {
      input.select();
      if (status) status.textContent = "Select the link and copy it.";
    }
  });
}

// The fan's remix page: follow the render until it is done, then show the player.
const detail = document.querySelector(".remix-detail[data-status-url]");
if (detail) {
  const active = ["queued", "separating", "rendering"];
  const waitingForPayment = detail.dataset.status === "draft" && detail.hasAttribute("data-returning");
  if (active.includes(detail.dataset.status) || waitingForPayment) {
    (async () => {
      const started = Date.now();
      for (;;) {
        await sleep(900);
        let s;
        try {
          const response = await fetch(detail.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
          s = await response.json();
        } catch { continue; }
        const set = (f, v) => { const el = detail.querySelector(`[data-field=${f}]`); if (el) { if (f === "progress") el.value = v; else el.textContent = v; } };
        set("progress", s.progress);
        set("percent", `${s.progress}%`);
        set("stage", s.stage || "");
        set("status", s.status);
        const progress = detail.querySelector("progress[data-field=progress]");
        if (progress) progress.setAttribute("aria-valuetext", `${s.progress}%`);
        if (s.status !== detail.dataset.status && !(waitingForPayment && s.status === "draft")) {
          if (!active.includes(s.status) || waitingForPayment) { location.replace(location.pathname); return; }
        }
        if (waitingForPayment && Date.now() - started > 120000) return;
      }
    })();
  }
}

// A remix that was not delivered: reload once Stripe confirms the refund.
const refund = document.querySelector("[data-refund-pending]");
if (refund) {
  (async () => {
    for (let i = 0; i < 60; i++) {
      await sleep(3000);
      try {
        const r = await fetch(refund.dataset.orderStatusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
        const body = await r.json();
        if (body.status && body.status !== "paid") { location.reload(); return; }
      } catch { /* keep waiting */ }
    }
  })();
}

// The public page: count a play once per page view.
const pub = document.querySelector("[data-play-url]");
if (pub) {
  const player = pub.querySelector("[data-remix-player]");
  let counted = false;
  if (player) player.addEventListener("play", async () => {
    if (counted) return;
    counted = true;
    try {
      const r = await fetch(pub.dataset.playUrl, { method: "POST" });
      const body = await r.json();
      pub.querySelector("[data-play-count]").textContent = body.play_count;
      pub.querySelector("[data-play-plural]").textContent = body.play_count === 1 ? "" : "s";
    } catch { /* counting is best effort */ }
  });
}
