// The one explicit store shared by the page's modules, and the live region.
//
// Modules read and write `store` directly and call `changed()` when something the toolbar or
// controls show depends on it; nothing else is shared between modules.

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

export const store = {
  models: [], // from GET /v1/models
  deviceModels: [], // models the page can run itself (GET /web/status.json)
  deviceDefault: null,
  deviceOnly: false, // an exported static site: no server behind the page
  options: [], // from GET /v1/options (refine/output option descriptions)
  presets: {}, // preset name -> settings (GET /v1/options)
  formats: [], // writable formats the browser can also encode
  unavailable: new Set(), // "model|preset" pairs the server said it cannot run
  bgImage: null, // ImageBitmap for Background = Image
  cards: [], // Card objects (cards.js), in page order
  busy: false, // a card is talking to the server
};

const listeners = new Set();

export function onChange(fn) {
  listeners.add(fn);
}

export function changed() {
  for (const fn of listeners) fn();
}

// Say `text` in the live region (screen readers), politely or, for errors, assertively.
export function announce(text, urgent = false) {
  const region = $(urgent ? "#alert" : "#status");
  if (!region) return;
  region.textContent = "";
  // A fresh text node in a new task, so the same message twice is announced twice.
  setTimeout(() => { region.textContent = text; }, 30);
}
