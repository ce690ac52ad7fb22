// The window's rating tablet (/hall/kiosk/). Native ES module; text goes in only through
// textContent (the Content-Security-Policy refuses inline code; nothing here parses HTML).
// Polls /hall/kiosk/state/ every 2 s: who is serving, and which service (if any) the clerk has
// just asked to have rated. The form itself is the server's; this only shows, hides and fills it.

const POLL_MS = 2000;

function byId(id) {
  return document.getElementById(id);
}

function show(element, visible) {
  if (element) element.hidden = !visible;
}

function applyState(state) {
  const officer = byId("kiosk-officer");
  if (state.officer) {
    byId("officer-name").textContent = state.officer.name;
    byId("officer-number").textContent = state.officer.staff_number;
  }
  show(officer, Boolean(state.officer));
  const form = byId("kiosk-form");
  const eventInput = byId("kiosk-event");
  const current = eventInput.value;
  if (state.event) {
    const id = String(state.event.id);
    if (id !== current) {
      form.reset();
      eventInput.value = id;
      byId("kiosk-service").textContent = state.event.service;
    }
    show(form, true);
    show(byId("kiosk-waiting"), false);
  } else {
    form.reset();
    eventInput.value = "";
    show(form, false);
    show(byId("kiosk-waiting"), true);
  }
}

async function poll(url) {
  try {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" });
    if (response.status === 403) {
      window.location.reload(); // unpaired (a new key was made): back to the pairing form
      return;
    }
    if (response.ok) applyState(await response.json());
  } catch (error) {
    // the network is down for a moment: keep the screen and try again
  }
  window.setTimeout(() => poll(url), POLL_MS);
}

function start() {
  const kiosk = byId("kiosk");
  if (kiosk) {
    window.setTimeout(() => poll(kiosk.dataset.stateUrl), POLL_MS);
  }
  const thanks = byId("kiosk-thanks");
  if (thanks) {
    const after = Number.parseInt(thanks.dataset.returnAfter, 10) || 6000;
    window.setTimeout(() => window.location.assign(thanks.dataset.returnUrl), after);
  }
}

start();
