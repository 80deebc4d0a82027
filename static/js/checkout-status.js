// The checkout success page: poll until Stripe has confirmed the subscription.
(function () {
  const panel = document.getElementById("checkout-status");
  function show(state, data) {
    panel.dataset.state = state;
    panel.querySelectorAll("[data-when]").forEach((el) => { el.hidden = el.dataset.when !== state; });
    const field = panel.querySelector('[data-field="subscription_status"]');
    if (field && data && data.subscription_status) field.textContent = data.subscription_status;
  }
  let delay = 1000;
  async function poll() {
    if (panel.dataset.state !== "confirming") return;
    try {
      const response = await fetch(panel.dataset.pollUrl, { headers: { Accept: "application/json" }, cache: "no-store" });
      if (response.ok) { const data = await response.json(); show(data.state, data); }
    } catch { /* network blip: try again */ }
    delay = Math.min(delay * 1.5, 10000);
    if (panel.dataset.state === "confirming") setTimeout(poll, delay);
  }
  setTimeout(poll, 500);
})();
