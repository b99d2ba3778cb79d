// The settings panel: model, quality and format choices built from what the server says it
// can run (GET /v1/models, GET /v1/options), the Advanced options, background and mode.

import { getJSON } from "./api.js";
import { canEncode } from "./canvas.js";
import { deviceSupported, webStatus } from "./ondevice/client.js";
import { $, $$, changed, store } from "./store.js";

const PRESET_LABELS = {
  fast: "Fast",
  balanced: "Balanced",
  best: "Best (two models, ~3× slower)",
};
const FALLBACK_PRESETS = { fast: {}, balanced: {}, best: { ensemble: ["auto"] } };
const FALLBACK_FORMATS = [
  { name: "png", extensions: [".png"], mime: "image/png", alpha: true, writable: true },
  { name: "webp", extensions: [".webp"], mime: "image/webp", alpha: true, writable: true },
  { name: "jpeg", extensions: [".jpg"], mime: "image/jpeg", alpha: false, writable: true },
];
const MODE_TEXT = {
  device: "<strong>On this device: sends nothing.</strong> The model runs in this page " +
    "(downloaded once from this site, then kept by your browser); no request carries your " +
    "photo. Quality: the model's own mask at full resolution, as the server's Fast preset " +
    "(no edge matting or colour clean-up).",
  mask: "<strong>Mask only: sends a small copy.</strong> Only a downsized copy of each " +
    "photo (at most the model's input size) goes to the server to find the subject; the " +
    "full-resolution cut-out is made here, in your browser. Your original stays on this device. " +
    "Costs: the subject is found on the small copy, so fine detail can be lost.",
  server: "<strong>Server mode: sends the original.</strong> The original photo goes to this " +
    "server for full-quality refinement (edge colour clean-up). It is processed in memory and " +
    "never stored.",
};
const ENDPOINT = { device: null, mask: "mask", server: "remove" };
// ------------------------------------------------------------------ reading the controls

export function mode() {
  const checked = $("input[name=mode]:checked");
  return checked ? checked.value : "mask";
}

export function settings() {
  const where = mode();
  const format = store.formats.find((f) => f.name === $("#format").value) || FALLBACK_FORMATS[0];
  return {
    model: $("#model").value,
    preset: $("#preset").value,
    bg: $("input[name=bg]:checked").value,
    color: $("#bg-color").value,
    crop: $("#crop").checked,
    mode: where,
    endpoint: ENDPOINT[where],
    format,
    advanced: where === "device" ? {} : advancedValues(ENDPOINT[where]),
  };
}

// What a new request would be made with (a change here needs "Redo"; background does not).
export function requestKey(s = settings()) {
  return JSON.stringify([s.model, s.mode === "device" ? "fast" : s.preset, s.mode, s.advanced]);
}

export function modelInfo(name) {
  if (mode() === "device") {
    return store.deviceModels.find((m) => m.name === name) || { input_size: [320, 320] };
  }
  return store.models.find((m) => m.name === name) || { input_size: [1024, 1024] };
}

// ------------------------------------------------------------------ loading capabilities

export async function loadCapabilities() {
  const web = await loadDevice();
  if (store.deviceOnly) {
    store.presets = { fast: {} };
    store.formats = FALLBACK_FORMATS.filter((f) => canEncode(f.mime));
  } else {
    try {
      const [models, options] = await Promise.all([getJSON("/v1/models"),
                                                   getJSON("/v1/options")]);
      store.models = (models && models.models) || [];
      store.options = (options && options.options) || [];
      store.presets = (options && options.presets) || FALLBACK_PRESETS;
      store.formats = ((options && options.formats) || FALLBACK_FORMATS)
        .filter((f) => f.writable && canEncode(f.mime));
      store.defaultModel = options && options.default_model;
    } catch (err) {
      $("#model-info").textContent = "could not reach the server";
      if (!web) return;
    }
  }
  fillFormats();
  showMode();
}

// The in-page model: offered (and the default) when this site serves the runtime and the
// browser can run it; otherwise the other modes stay, with the reason shown.
async function loadDevice() {
  const status = deviceSupported() ? await webStatus() : null;
  store.deviceOnly = Boolean(status && status.device_only);
  store.deviceModels = ((status && status.models) || []).map((m) => ({
    ...m, cached: m.ready !== false, default: m.name === status.default_model }));
  store.deviceDefault = status && status.default_model;
  let reason = "";
  if (!deviceSupported()) reason = "This browser cannot run the model itself (it needs Web " +
    "Workers and WebAssembly with SIMD); use Mask only or Server mode.";
  else if (!status || !status.runtime || !status.runtime.ready) reason = "This server does " +
    "not have the in-browser runtime installed, so the model cannot run on this device; use " +
    "Mask only or Server mode.";
  else if (!store.deviceModels.some((m) => m.cached)) reason = "This server offers no model " +
    "the page can run itself; use Mask only or Server mode.";
  const ok = reason === "";
  offerDevice(ok, reason);
  if (ok) $("input[name=mode][value=device]").checked = true;
  if (store.deviceOnly) {
    for (const other of ["mask", "server"]) {
      $(`input[name=mode][value=${other}]`).closest("label").hidden = true;
    }
  }
  return ok;
}

export function fillModels() {
  const select = $("#model");
  const current = select.value;
  const device = mode() === "device";
  select.replaceChildren();
  for (const m of device ? store.deviceModels : store.models) {
    const opt = new Option(`${m.name} · ${m.license}`, m.name);
    if (m.cached === false) {
      opt.disabled = true;
      opt.textContent += " · not installed on this server";
    }
    const preferred = current || (device ? store.deviceDefault : store.defaultModel);
    opt.selected = m.cached !== false && (m.name === preferred || (!current && m.default));
    select.append(opt);
  }
  if (select.selectedOptions[0] && select.selectedOptions[0].disabled) {
    const first = [...select.options].find((o) => !o.disabled);
    if (first) first.selected = true;
  }
  showModelInfo();
}

// Can the server run `preset` with `model`? It may say so per model or per preset; it also
// said so if a request failed for missing weights (store.unavailable).
function presetRunnable(name, model) {
  const preset = store.presets[name] || {};
  const info = modelInfo(model);
  if (store.unavailable.has(`${model}|${name}`)) return false;
  if (Array.isArray(info.presets)) return info.presets.includes(name);
  if (preset.available === false) return false;
  const needs = [...(preset.models || []), ...(preset.ensemble || [])].filter((m) => m !== "auto");
  return needs.every((m) => store.models.some((x) => x.name === m && x.cached !== false));
}

export function fillPresets() {
  const select = $("#preset");
  const current = select.value || "balanced";
  const model = $("#model").value;
  select.replaceChildren();
  for (const name of Object.keys(store.presets)) {
    const preset = store.presets[name] || {};
    const label = PRESET_LABELS[name] || name[0].toUpperCase() + name.slice(1);
    const opt = new Option(label, name);
    if (preset.help) opt.title = preset.help;
    if (!presetRunnable(name, model)) {
      opt.disabled = true;
      opt.textContent += " · not available on this server";
    }
    select.append(opt);
  }
  const wanted = [...select.options].find((o) => o.value === current && !o.disabled)
    || [...select.options].find((o) => o.value === "balanced" && !o.disabled)
    || [...select.options].find((o) => !o.disabled);
  if (wanted) wanted.selected = true;
}

function fillFormats() {
  const select = $("#format");
  select.replaceChildren();
  for (const f of store.formats) {
    const label = f.name === "jpeg" ? "JPG" : f.name.toUpperCase();
    select.append(new Option(f.alpha ? label : `${label} (no transparency)`, f.name));
  }
}

// ------------------------------------------------------------------ advanced options

// One control per option in group "refine" that the current mode's endpoint takes.
export function fillAdvanced() {
  const endpoint = ENDPOINT[mode()];
  const shown = store.options.filter((o) => o.group === "refine"
    && (o.endpoints || []).includes(endpoint));
  const box = $("#advanced-fields");
  const before = advancedValues(null);
  const preset = store.presets[$("#preset").value] || {};
  box.replaceChildren(...shown.map((o) => optionControl(o, before[o.name], preset[o.name])));
  for (const name of Object.keys(before)) {
    const input = $(`#advanced-fields [data-option="${name}"]`);
    if (input) input.dataset.touched = "1";
  }
  $("#advanced").hidden = shown.length === 0;
}

// `value`: what the person chose; else the preset's setting, else the option's default.
function optionControl(option, value, presetValue) {
  if (value === undefined && presetValue !== undefined) value = presetValue;
  if (Array.isArray(value)) value = value.join(",");
  const label = document.createElement("label");
  label.className = "field option";
  const name = document.createElement("span");
  name.textContent = option.name.replaceAll("_", " ");
  let input;
  if (option.type === "boolean") {
    input = document.createElement("input");
    input.type = "checkbox";
    input.checked = value === undefined ? Boolean(option.default) : value;
    label.classList.add("check");
  } else if (Array.isArray(option.choices) && option.choices.length) {
    input = document.createElement("select");
    for (const c of option.choices) input.append(new Option(String(c), String(c)));
    input.value = String(value === undefined ? option.default : value);
  } else {
    input = document.createElement("input");
    input.type = option.type === "string" ? "text" : "number";
    if (option.min !== null && option.min !== undefined) input.min = option.min;
    if (option.max !== null && option.max !== undefined) input.max = option.max;
    input.step = option.type === "integer" ? "1" : "any";
    const v = value === undefined ? option.default : value;
    input.value = v === null || v === undefined ? "" : String(v);
  }
  input.dataset.option = option.name;
  input.dataset.type = option.type;
  input.dataset.default = JSON.stringify(option.default ?? null);
  if (option.help) {
    input.title = option.help;
    const help = document.createElement("small");
    help.className = "muted";
    help.textContent = option.help;
    label.append(name, input, help);
  } else {
    label.append(name, input);
  }
  input.addEventListener("change", () => { input.dataset.touched = "1"; changed(); });
  return label;
}

// {name: value} of the Advanced options the person changed (others keep the server default).
function advancedValues(endpoint) {
  const out = {};
  for (const input of $$("#advanced-fields [data-option]")) {
    if (!input.dataset.touched) continue;
    const option = store.options.find((o) => o.name === input.dataset.option);
    if (endpoint && option && !(option.endpoints || []).includes(endpoint)) continue;
    if (input.type === "checkbox") out[input.dataset.option] = input.checked;
    else if (input.value !== "") out[input.dataset.option] = input.value;
  }
  return out;
}

// ------------------------------------------------------------------ model, mode, background

export function showModelInfo() {
  const m = modelInfo($("#model").value);
  $("#model-info").textContent = m.name
    ? [`Licence ${m.license}`, formatBytes(m.size_bytes), m.task === "general" ? "" : m.task,
       m.default ? "default" : ""].filter(Boolean).join(" · ")
    : "";
}

function formatBytes(n) {
  if (!n) return "size unknown";
  return n >= 1e6 ? `${(n / 1e6).toFixed(n >= 1e8 ? 0 : 1)} MB` : `${Math.round(n / 1e3)} kB`;
}

export function showMode() {
  const where = mode();
  const note = $("#mode-note");
  note.dataset.mode = where;
  note.innerHTML = MODE_TEXT[where];
  fillModels();
  fillPresets();
  fillAdvanced();
  // On this device the result is the Fast preset's (the page has no matting/decontamination).
  const preset = $("#preset");
  if (where === "device") {
    preset.value = "fast";
    preset.disabled = true;
    preset.title = "On this device: the model's mask, as the Fast preset";
  } else {
    preset.disabled = false;
    preset.title = "";
  }
}

// Which modes this page can offer: "device" needs the site's runtime and a capable browser.
export function offerDevice(available, reason) {
  const radio = $("input[name=mode][value=device]");
  radio.disabled = !available;
  radio.closest("label").title = available ? "" : reason;
  const note = $("#device-note");
  note.hidden = available;
  note.textContent = available ? "" : reason;
}

export function showBackground() {
  const { bg } = settings();
  $("#bg-color").hidden = bg !== "color";
  $("#bg-pick").hidden = bg !== "image";
  $("#bg-name").hidden = bg !== "image";
  $("#bg-hint").hidden = !(bg === "image" && !store.bgImage);
  const f = settings().format;
  $("#format-note").hidden = f.alpha || bg !== "transparent";
}
