// alphacut web page: wiring. ES modules, no build step, nothing loaded from other sites.
//
// On this device (default where the browser and the server allow it): the model runs in a
// worker in this page (ondevice/); nothing is sent. Mask only: a downsized copy goes to
// POST /v1/mask; the mask is brought to full resolution and composited here (imaging.js).
// Server mode: the original goes to POST /v1/remove. Background, crop and format are applied here, so changing them needs no
// new request.

import { Card } from "./cards.js";
import {
  fillAdvanced, fillPresets, loadCapabilities, requestKey, showBackground, showMode, showModelInfo,
} from "./controls.js";
import { decode } from "./canvas.js";
import { $, $$, announce, changed, onChange, store } from "./store.js";
import { makeZip, saveBlob, uniqueNames } from "./zip.js";

const IMAGE_NAME = /\.(jpe?g|jfif|png|webp|gif|bmp|tiff?|heic|heif|avif)$/i;

// ------------------------------------------------------------------ adding files

function isImage(file) {
  return file.type.startsWith("image/") || IMAGE_NAME.test(file.name);
}

function addFiles(files) {
  const skipped = [];
  for (const file of files) {
    if (isImage(file)) store.cards.push(new Card(file));
    else skipped.push(file.name || "a file");
  }
  if (skipped.length) {
    const text = `Not an image, skipped: ${skipped.join(", ")}`;
    const notice = $("#notice");
    notice.textContent = text;
    notice.hidden = false;
    announce(text, true);
  }
  changed();
  pump();
}

// One image at a time: the server does one at a time too, and this keeps memory low.
async function pump() {
  if (store.busy) return;
  store.busy = true;
  try {
    let card;
    while ((card = store.cards.find((c) => c.status === "waiting"))) await card.process();
  } finally {
    store.busy = false;
    changed();
  }
}

// ------------------------------------------------------------------ toolbar

function updateToolbar() {
  const cards = store.cards;
  const done = cards.filter((c) => c.status === "done");
  const failed = cards.filter((c) => c.status === "failed");
  const rendering = cards.some((c) => c.rendering !== null);
  $("#toolbar").hidden = cards.length === 0;
  $("#summary").textContent = `${done.length} of ${cards.length} done` +
    (failed.length ? ` · ${failed.length} failed` : "");
  $("#zip").disabled = done.length === 0 || rendering || store.busy;
  $("#retry").hidden = failed.length === 0;
  const key = requestKey();
  $("#redo-all").hidden = !done.some((c) => c.made && c.made.key !== key);
}

async function downloadZip() {
  const done = store.cards.filter((c) => c.status === "done");
  await Promise.all(done.map((c) => c.rendering));
  const names = uniqueNames(done.map((c) => c.result.name));
  saveBlob(await makeZip(done.map((c, k) => ({ name: names[k], blob: c.result.blob }))),
           "alphacut-cutouts.zip");
}

function redoAll(which) {
  for (const card of store.cards.filter(which)) card.redo();
}

function clearAll() {
  for (const card of store.cards) card.clear();
  store.cards = [];
  $("#results").replaceChildren();
  $("#notice").hidden = true;
  changed();
}

function rerenderAll() {
  showBackground();
  for (const card of store.cards) if (card.status === "done") card.render();
}

// ------------------------------------------------------------------ wiring

function wireDrop() {
  const drop = $("#drop");
  const input = $("#files");
  $("#pick").addEventListener("click", (e) => { e.stopPropagation(); input.click(); });
  drop.addEventListener("click", () => input.click());
  drop.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); }
  });
  input.addEventListener("change", () => { addFiles([...input.files]); input.value = ""; });
  // Drops anywhere on the page are caught: the browser must never navigate to the file.
  for (const type of ["dragenter", "dragover"]) {
    window.addEventListener(type, (e) => {
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
      drop.classList.add("over");
    });
  }
  window.addEventListener("dragleave", (e) => { if (!e.relatedTarget) drop.classList.remove("over"); });
  window.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer && e.dataTransfer.files.length) addFiles([...e.dataTransfer.files]);
  });
  window.addEventListener("paste", (e) => {
    if (e.clipboardData && e.clipboardData.files.length) addFiles([...e.clipboardData.files]);
  });
}

function wireBackground() {
  const file = $("#bg-file");
  $("#bg-pick").addEventListener("click", () => file.click());
  file.addEventListener("change", async () => {
    if (!file.files.length) return;
    const image = await decode(file.files[0]);
    if (!image) {
      announce(`${file.files[0].name}: this browser cannot open it as a background.`, true);
      return;
    }
    store.bgImage = image;
    $("#bg-name").textContent = file.files[0].name;
    $("input[name=bg][value=image]").checked = true;
    rerenderAll();
  });
  for (const radio of $$("input[name=bg]")) radio.addEventListener("change", rerenderAll);
  $("#bg-color").addEventListener("change", rerenderAll);
  $("#crop").addEventListener("change", rerenderAll);
  $("#format").addEventListener("change", rerenderAll);
}

function init() {
  wireDrop();
  wireBackground();
  showBackground();
  $("#model").addEventListener("change", () => { showModelInfo(); fillPresets(); changed(); });
  $("#preset").addEventListener("change", () => { fillAdvanced(); changed(); });
  for (const radio of $$("input[name=mode]")) {
    radio.addEventListener("change", () => { showMode(); changed(); });
  }
  $("#zip").addEventListener("click", downloadZip);
  $("#clear").addEventListener("click", clearAll);
  $("#redo-all").addEventListener("click", () => redoAll((c) => c.status === "done"));
  $("#retry").addEventListener("click", () => redoAll((c) => c.status === "failed"));
  onChange(updateToolbar);
  document.addEventListener("alphacut:queued", pump);
  loadCapabilities().then(() => { showBackground(); changed(); document.body.dataset.ready = "1"; });
}

init();
