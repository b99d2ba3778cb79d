// alphacut web page. Plain JavaScript, no build step, nothing loaded from other sites.
//
// Privacy mode (default): the photo is downsized in a canvas, only that small copy is sent to
// POST /v1/mask, and the returned mask is brought back to full resolution here (edge-aware,
// with a guided filter on the full-resolution original) and composited on this device.
// Server mode: the original file goes to POST /v1/remove for full-quality refinement.
// Either way background and crop are applied here, so changing them needs no new request.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const WORK_MAX_SIDE = 1024;   // guided filter fit resolution, as on the server
const GUIDED_RADIUS = 4;
const GUIDED_EPS = 1e-3;
const CROP_THRESHOLD = 0.05 * 255;
const CROP_MARGIN = 16;
const MAX_RETRIES = 5;

const state = { models: [], items: [], bgImage: null, busy: false };

// ------------------------------------------------------------------ settings

function settings() {
  return {
    model: $("#model").value,
    preset: $("#preset").value,
    bg: document.querySelector("input[name=bg]:checked").value,
    color: $("#bg-color").value,
    crop: $("#crop").checked,
    privacy: $("#privacy").checked,
  };
}

function modelInfo(name) {
  return state.models.find((m) => m.name === name) || { input_size: [1024, 1024] };
}

function formatBytes(n) {
  if (!n) return "size unknown";
  return n >= 1e6 ? `${(n / 1e6).toFixed(n >= 1e8 ? 0 : 1)} MB` : `${Math.round(n / 1e3)} kB`;
}

async function loadModels() {
  const select = $("#model");
  try {
    const res = await fetch("/v1/models");
    state.models = (await res.json()).models;
  } catch (err) {
    $("#model-info").textContent = "could not load the model list";
    return;
  }
  for (const m of state.models) {
    const opt = document.createElement("option");
    opt.value = m.name;
    opt.textContent = `${m.name} · ${m.license}`;
    opt.selected = m.default;
    select.append(opt);
  }
  showModelInfo();
}

function showModelInfo() {
  const m = modelInfo($("#model").value);
  $("#model-info").textContent = m.name
    ? [`Licence ${m.license}`, formatBytes(m.size_bytes), m.task === "general" ? "" : m.task,
       m.default ? "default" : ""].filter(Boolean).join(" · ")
    : "";
}

function showMode() {
  const note = $("#mode-note");
  const privacy = $("#privacy").checked;
  note.dataset.mode = privacy ? "privacy" : "server";
  note.innerHTML = privacy
    ? "<strong>Privacy mode is on.</strong> Only a small copy of each photo goes to the " +
      "server to find the subject; the full-resolution cut-out is made here, in your " +
      "browser. Your original never leaves this device."
    : "<strong>Server mode.</strong> The original photo is sent to this server for " +
      "full-quality refinement (edge colour clean-up). It is processed in memory and " +
      "never stored.";
}

// ------------------------------------------------------------------ items and cards

function addFiles(files) {
  for (const file of files) {
    if (!file.type.startsWith("image/") && !/\.(jpe?g|png|webp|gif|bmp|tiff?|heic|avif)$/i.test(file.name)) continue;
    const item = { id: state.items.length, file, name: file.name, status: "waiting",
                   cutout: null, result: null, resultUrl: null };
    item.card = makeCard(item);
    state.items.push(item);
  }
  updateToolbar();
  pump();
}

function makeCard(item) {
  const card = $("#card").content.firstElementChild.cloneNode(true);
  item.beforeUrl = URL.createObjectURL(item.file);
  $(".before", card).src = item.beforeUrl;
  $(".name", card).textContent = item.name;
  $(".name", card).title = item.name;
  const slider = $(".slider", card);
  const setPos = () => card.style.setProperty("--pos", `${slider.value}%`);
  slider.addEventListener("input", setPos);
  setPos();
  $(".redo", card).addEventListener("click", () => {
    item.status = "waiting";
    item.cutout = null;
    setProgress(item, 0, "Waiting…");
    $(".redo", card).hidden = true;
    pump();
  });
  $("#results").append(card);
  return card;
}

function setProgress(item, percent, text, kind = "") {
  const card = item.card;
  $("progress", card).value = percent;
  const label = $(".state", card);
  label.textContent = text;
  label.title = text;
  label.dataset.kind = kind;
  card.dataset.status = item.status;
}

function updateToolbar() {
  const done = state.items.filter((i) => i.status === "done").length;
  const total = state.items.length;
  $("#toolbar").hidden = total === 0;
  $("#summary").textContent = `${done} of ${total} done`;
  $("#zip").disabled = done === 0;
}

// One image at a time: the server does one at a time too, and this keeps memory low.
async function pump() {
  if (state.busy) return;
  state.busy = true;
  try {
    let item;
    while ((item = state.items.find((i) => i.status === "waiting"))) {
      await processItem(item);
      updateToolbar();
    }
  } finally {
    state.busy = false;
  }
}

async function processItem(item) {
  const opts = settings();
  item.status = "working";
  try {
    const source = await createImageBitmap(item.file, { imageOrientation: "from-image" });
    item.width = source.width;
    item.height = source.height;
    $(".dims", item.card).textContent = `${source.width} × ${source.height}`;
    item.cutout = opts.privacy
      ? await cutoutOnDevice(item, source, opts)
      : await cutoutOnServer(item, opts);
    source.close();
    setProgress(item, 95, "Compositing…");
    await render(item);
    item.status = "done";
    setProgress(item, 100, opts.privacy ? "Done · on device" : "Done · on server", "ok");
    $(".download", item.card).hidden = false;
  } catch (err) {
    item.status = "failed";
    setProgress(item, 0, err.message || String(err), "error");
  }
  $(".redo", item.card).hidden = item.status === "working";
}

// ------------------------------------------------------------------ talking to the server

function post(url, body, contentType, onUpload) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.responseType = "blob";
    xhr.setRequestHeader("Content-Type", contentType);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onUpload(e.loaded / e.total); };
    xhr.onload = () => resolve(xhr);
    xhr.onerror = () => reject(new Error("Network error: is the server running?"));
    xhr.send(body);
  });
}

async function errorText(xhr) {
  try {
    const body = JSON.parse(await xhr.response.text());
    return body.detail || body.error || `HTTP ${xhr.status}`;
  } catch (err) {
    return `HTTP ${xhr.status}`;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// POST with upload progress; waits and retries while the server says 503 Busy.
async function request(item, url, body, contentType) {
  for (let attempt = 0; ; attempt++) {
    setProgress(item, 15, "Uploading…");
    const xhr = await post(url, body, contentType, (f) => {
      setProgress(item, 15 + Math.round(f * 35), f < 1 ? `Uploading… ${Math.round(f * 100)}%` : "Finding the subject…");
    });
    if (xhr.status === 200) return xhr.response;
    if (xhr.status === 503 && attempt < MAX_RETRIES) {
      const wait = Math.max(1, Number(xhr.getResponseHeader("Retry-After")) || 1);
      setProgress(item, 10, `Server busy, retrying in ${wait} s…`);
      await sleep(wait * 1000);
      continue;
    }
    throw new Error(await errorText(xhr));
  }
}

function query(params) {
  return new URLSearchParams(params).toString();
}

// Server mode: the original file, untouched, to /v1/remove; returns a transparent PNG cut-out.
async function cutoutOnServer(item, opts) {
  const body = new Uint8Array(await item.file.arrayBuffer());
  const url = `/v1/remove?${query({ model: opts.model, preset: opts.preset, format: "png" })}`;
  const blob = await request(item, url, body, item.file.type || "application/octet-stream");
  setProgress(item, 85, "Received the cut-out");
  return createImageBitmap(blob);
}

// Privacy mode: a downsized copy to /v1/mask, then the full-resolution matte on this device.
async function cutoutOnDevice(item, source, opts) {
  setProgress(item, 5, "Downsizing…");
  const [w, h] = fitWithin(source.width, source.height, Math.max(...modelInfo(opts.model).input_size));
  const small = drawToCanvas(source, w, h);
  // WebP keeps the small copy small; JPEG's blocking visibly hurts small models' masks.
  const copy = await canvasBlob(small, "image/webp", 0.92);
  const body = new Uint8Array(await copy.arrayBuffer());
  item.sent = { width: w, height: h, bytes: body.length };
  const url = `/v1/mask?${query({ model: opts.model, preset: opts.preset })}`;
  const maskBlob = await request(item, url, body, copy.type || "image/png");
  setProgress(item, 70, "Refining edges on this device…");
  await sleep(0); // let the progress paint before the heavy loop
  const mask = await createImageBitmap(maskBlob);
  const canvas = matteOnDevice(source, mask, opts.preset !== "fast");
  mask.close();
  return canvas;
}

// ------------------------------------------------------------------ image helpers

function fitWithin(width, height, maxSide) {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))];
}

function drawToCanvas(image, width, height) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(image, 0, 0, width, height);
  return canvas;
}

function pixels(canvas) {
  return canvas.getContext("2d", { willReadFrequently: true })
    .getImageData(0, 0, canvas.width, canvas.height);
}

function canvasBlob(canvas, type, quality) {
  return new Promise((resolve, reject) => canvas.toBlob(
    (b) => (b ? resolve(b) : reject(new Error("the browser could not encode the image"))), type, quality));
}

// Grey in [0, 1] from RGBA bytes (same weights as OpenCV's RGB2GRAY).
function grayOf(data, n) {
  const out = new Float32Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 4) {
    out[i] = (0.299 * data[j] + 0.587 * data[j + 1] + 0.114 * data[j + 2]) / 255;
  }
  return out;
}

function channel(data, n, offset) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = data[i * 4 + offset] / 255;
  return out;
}

// Mean over a (2r+1)^2 window clipped to the image: two running-sum passes.
function boxMean(src, w, h, r) {
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    let sum = 0;
    for (let x = 0; x <= Math.min(r, w - 1); x++) sum += src[row + x];
    for (let x = 0; x < w; x++) {
      tmp[row + x] = sum / (Math.min(x + r, w - 1) - Math.max(x - r, 0) + 1);
      if (x + r + 1 < w) sum += src[row + x + r + 1];
      if (x - r >= 0) sum -= src[row + x - r];
    }
  }
  for (let x = 0; x < w; x++) {
    let sum = 0;
    for (let y = 0; y <= Math.min(r, h - 1); y++) sum += tmp[y * w + x];
    for (let y = 0; y < h; y++) {
      out[y * w + x] = sum / (Math.min(y + r, h - 1) - Math.max(y - r, 0) + 1);
      if (y + r + 1 < h) sum += tmp[(y + r + 1) * w + x];
      if (y - r >= 0) sum -= tmp[(y - r) * w + x];
    }
  }
  return out;
}

// Guided filter (He et al.): per-pixel q = a * guide + b, coefficients smoothed.
function guidedCoefficients(guide, src, w, h) {
  const n = w * h;
  const ip = new Float32Array(n);
  const ii = new Float32Array(n);
  for (let i = 0; i < n; i++) { ip[i] = guide[i] * src[i]; ii[i] = guide[i] * guide[i]; }
  const mI = boxMean(guide, w, h, GUIDED_RADIUS);
  const mP = boxMean(src, w, h, GUIDED_RADIUS);
  const mIP = boxMean(ip, w, h, GUIDED_RADIUS);
  const mII = boxMean(ii, w, h, GUIDED_RADIUS);
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = (mIP[i] - mI[i] * mP[i]) / (mII[i] - mI[i] * mI[i] + GUIDED_EPS);
    b[i] = mP[i] - a[i] * mI[i];
  }
  return [boxMean(a, w, h, GUIDED_RADIUS), boxMean(b, w, h, GUIDED_RADIUS)];
}

// Bilinear sample positions (pixel centres aligned) for resizing `from` -> `to` samples.
function axis(from, to) {
  const i0 = new Int32Array(to);
  const i1 = new Int32Array(to);
  const f = new Float32Array(to);
  for (let t = 0; t < to; t++) {
    const s = Math.min(Math.max((t + 0.5) * from / to - 0.5, 0), from - 1);
    i0[t] = Math.floor(s);
    i1[t] = Math.min(i0[t] + 1, from - 1);
    f[t] = s - i0[t];
  }
  return [i0, i1, f];
}

// The full-resolution matte: `source` and the server's small `mask`, both ImageBitmaps.
// Returns a canvas holding the original pixels with the matte as alpha (straight alpha).
function matteOnDevice(source, mask, guided) {
  const W = source.width;
  const H = source.height;
  const [w, h] = fitWithin(W, H, WORK_MAX_SIDE);
  const n = w * h;
  const srcMask = channel(pixels(drawToCanvas(mask, w, h)).data, n, 0);
  let A = new Float32Array(n);
  let B = srcMask;
  if (guided) {
    const guide = grayOf(pixels(drawToCanvas(source, w, h)).data, n);
    [A, B] = guidedCoefficients(guide, srcMask, w, h);
  }
  const full = drawToCanvas(source, W, H);
  const image = pixels(full);
  applyMatte(image.data, W, H, A, B, w, h);
  full.getContext("2d").putImageData(image, 0, 0);
  return full;
}

// alpha = clamp(a * gray + b) (a, b upsampled bilinearly), times the photo's own alpha.
function applyMatte(data, W, H, A, B, w, h) {
  const [x0, x1, fx] = axis(w, W);
  const [y0, y1, fy] = axis(h, H);
  for (let y = 0; y < H; y++) {
    const r0 = y0[y] * w;
    const r1 = y1[y] * w;
    const wy = fy[y];
    for (let x = 0; x < W; x++) {
      const i00 = r0 + x0[x], i01 = r0 + x1[x], i10 = r1 + x0[x], i11 = r1 + x1[x];
      const wx = fx[x];
      const a = (A[i00] * (1 - wx) + A[i01] * wx) * (1 - wy) + (A[i10] * (1 - wx) + A[i11] * wx) * wy;
      const b = (B[i00] * (1 - wx) + B[i01] * wx) * (1 - wy) + (B[i10] * (1 - wx) + B[i11] * wx) * wy;
      const j = (y * W + x) * 4;
      const gray = (0.299 * data[j] + 0.587 * data[j + 1] + 0.114 * data[j + 2]) / 255;
      const q = Math.min(1, Math.max(0, a * gray + b));
      data[j + 3] = Math.round(q * data[j + 3]);
    }
  }
}

// ------------------------------------------------------------------ compositing (on device)

// The subject box (alpha above the threshold, plus a margin), or the whole image.
function subjectBox(canvas) {
  const { width, height } = canvas;
  const data = pixels(canvas).data;
  let top = height, bottom = -1, left = width, right = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[(y * width + x) * 4 + 3] > CROP_THRESHOLD) {
        if (y < top) top = y;
        if (y > bottom) bottom = y;
        if (x < left) left = x;
        if (x > right) right = x;
      }
    }
  }
  if (bottom < 0) return [0, 0, width, height];
  const x = Math.max(0, left - CROP_MARGIN);
  const y = Math.max(0, top - CROP_MARGIN);
  return [x, y, Math.min(width, right + 1 + CROP_MARGIN) - x, Math.min(height, bottom + 1 + CROP_MARGIN) - y];
}

// Draw `image` scaled to cover width x height, centred.
function drawCover(ctx, image, width, height) {
  const scale = Math.max(width / image.width, height / image.height);
  const w = image.width * scale;
  const h = image.height * scale;
  ctx.drawImage(image, (width - w) / 2, (height - h) / 2, w, h);
}

// Apply the background and crop to the cut-out; store the PNG and show it.
async function render(item) {
  const opts = settings();
  const cut = item.cutout;
  const out = document.createElement("canvas");
  out.width = cut.width;
  out.height = cut.height;
  const ctx = out.getContext("2d", { willReadFrequently: true });
  if (opts.bg === "color") {
    ctx.fillStyle = opts.color;
    ctx.fillRect(0, 0, out.width, out.height);
  } else if (opts.bg === "image" && state.bgImage) {
    drawCover(ctx, state.bgImage, out.width, out.height);
  }
  ctx.drawImage(cut, 0, 0);
  let final = out;
  if (opts.crop) {
    const [x, y, w, h] = subjectBox(cut instanceof HTMLCanvasElement ? cut : drawToCanvas(cut, cut.width, cut.height));
    final = document.createElement("canvas");
    final.width = w;
    final.height = h;
    final.getContext("2d").drawImage(out, x, y, w, h, 0, 0, w, h);
  }
  item.result = await canvasBlob(final, "image/png");
  if (item.resultUrl) URL.revokeObjectURL(item.resultUrl);
  item.resultUrl = URL.createObjectURL(item.result);
  const after = $(".after", item.card);
  after.src = item.resultUrl;
  item.card.classList.toggle("cropped", opts.crop);
  const link = $(".download", item.card);
  link.href = item.resultUrl;
  link.download = outputName(item.name);
}

function outputName(name) {
  const stem = name.replace(/\.[^.]+$/, "") || "image";
  return `${stem}-cutout.png`;
}

async function rerenderAll() {
  for (const item of state.items) {
    if (item.status === "done" && item.cutout) await render(item);
  }
}

// ------------------------------------------------------------------ zip (store only)

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function dosTime(d) {
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
    date: ((d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

function uniqueNames(names) {
  const seen = new Map();
  return names.map((name) => {
    const count = seen.get(name) || 0;
    seen.set(name, count + 1);
    return count ? name.replace(/(\.[^.]+)?$/, `-${count + 1}$1`) : name;
  });
}

// A ZIP archive (method 0: stored, UTF-8 names) of [{name, blob}] entries.
async function makeZip(entries) {
  const enc = new TextEncoder();
  const { time, date } = dosTime(new Date());
  const chunks = [];
  const central = [];
  let offset = 0;
  for (const entry of entries) {
    const data = new Uint8Array(await entry.blob.arrayBuffer());
    const name = enc.encode(entry.name);
    const crc = crc32(data);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true);
    local.setUint16(6, 0x0800, true);
    local.setUint16(8, 0, true);
    local.setUint16(10, time, true);
    local.setUint16(12, date, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, data.length, true);
    local.setUint32(22, data.length, true);
    local.setUint16(26, name.length, true);
    local.setUint16(28, 0, true);
    const head = new DataView(new ArrayBuffer(46));
    head.setUint32(0, 0x02014b50, true);
    head.setUint16(4, 20, true);
    head.setUint16(6, 20, true);
    head.setUint16(8, 0x0800, true);
    head.setUint16(10, 0, true);
    head.setUint16(12, time, true);
    head.setUint16(14, date, true);
    head.setUint32(16, crc, true);
    head.setUint32(20, data.length, true);
    head.setUint32(24, data.length, true);
    head.setUint16(28, name.length, true);
    head.setUint32(42, offset, true);
    chunks.push(local, name, data);
    central.push(head, name);
    offset += 30 + name.length + data.length;
    if (offset > 0xffffffff) throw new Error("zip over 4 GB: download the images one by one");
  }
  const size = central.reduce((sum, part) => sum + part.byteLength, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, size, true);
  end.setUint32(16, offset, true);
  return new Blob([...chunks, ...central, end], { type: "application/zip" });
}

async function downloadZip() {
  const done = state.items.filter((i) => i.status === "done");
  const names = uniqueNames(done.map((i) => outputName(i.name)));
  const zip = await makeZip(done.map((item, k) => ({ name: names[k], blob: item.result })));
  const url = URL.createObjectURL(zip);
  const a = document.createElement("a");
  a.href = url;
  a.download = "alphacut-cutouts.zip";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// ------------------------------------------------------------------ wiring

function clearAll() {
  for (const item of state.items) {
    URL.revokeObjectURL(item.beforeUrl);
    if (item.resultUrl) URL.revokeObjectURL(item.resultUrl);
    item.status = "cleared";
  }
  state.items = [];
  $("#results").replaceChildren();
  updateToolbar();
}

function wireDrop() {
  const drop = $("#drop");
  const input = $("#files");
  $("#pick").addEventListener("click", (e) => { e.stopPropagation(); input.click(); });
  drop.addEventListener("click", () => input.click());
  drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") input.click(); });
  input.addEventListener("change", () => { addFiles([...input.files]); input.value = ""; });
  for (const type of ["dragenter", "dragover"]) {
    drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add("over"); });
  }
  for (const type of ["dragleave", "drop"]) {
    drop.addEventListener(type, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (e) => { e.preventDefault(); addFiles([...e.dataTransfer.files]); });
  // Also accept a pasted image.
  window.addEventListener("paste", (e) => addFiles([...e.clipboardData.files]));
}

function wireBackground() {
  const file = $("#bg-file");
  $("#bg-pick").addEventListener("click", () => file.click());
  file.addEventListener("change", async () => {
    if (!file.files.length) return;
    state.bgImage = await createImageBitmap(file.files[0]);
    $("#bg-name").textContent = file.files[0].name;
    document.querySelector("input[name=bg][value=image]").checked = true;
    showBackground();
    rerenderAll();
  });
  for (const radio of document.querySelectorAll("input[name=bg]")) {
    radio.addEventListener("change", () => { showBackground(); rerenderAll(); });
  }
  $("#bg-color").addEventListener("change", rerenderAll);
  $("#crop").addEventListener("change", rerenderAll);
}

function showBackground() {
  const bg = settings().bg;
  $("#bg-color").hidden = bg !== "color";
  $("#bg-pick").hidden = bg !== "image";
  $("#bg-name").hidden = bg !== "image";
}

function init() {
  wireDrop();
  wireBackground();
  showBackground();
  $("#model").addEventListener("change", showModelInfo);
  $("#privacy").addEventListener("change", showMode);
  $("#zip").addEventListener("click", downloadZip);
  $("#clear").addEventListener("click", clearAll);
  loadModels();
}

document.addEventListener("DOMContentLoaded", init);
