// The live camera page: frames from getUserMedia go to a worker that runs a people model;
// the person is drawn over a blurred copy of the frame, a colour or an image. No frame, mask
// or anything about the picture is sent anywhere: the only requests are same-origin GETs of
// the page, the runtime and the weights.
//
// URL parameters (for links and tests): model=rvm|modnet, detail=160|256|384 (the side the
// model looks at), input=320|640 (the long side of the frame given to the model; the alpha is
// scaled up to the camera's size when compositing), bg=blur|color|image, color=RRGGBB,
// threads=N (the worker's wasm threads, 0: as many as the browser allows; default 1: the
// frames are pipelined instead, the model on one core while this thread composites, and on
// a loaded 2-core machine one thread cost half the CPU per frame of two; benchmarks/camera.py).

const ORT_BASE = "/web/ort/";
const MODEL_BASE = "/web/models/";
const COPYLEFT = /^(A?GPL)/i;
const DEFAULT_THREADS = 1;
const $ = (id) => document.getElementById(id);

const stats = { frames: 0, fps: 0, inferMs: 0, compositeMs: 0, running: false, model: null,
                threads: 0 };
window.cameraStats = stats;

const view = {
  out: $("cam-out"), video: $("cam-video"), status: $("cam-status"), fps: $("cam-fps"),
  progress: $("cam-progress"), start: $("cam-start"), stop: $("cam-stop"),
};
let worker = null;
let loaded = null; // "model:detail" the worker holds
let stream = null;
let background = null; // an ImageBitmap for bg=image
let grabs = [];
let slot = 0;
let latestFrame = 0; // frames the video has presented (requestVideoFrameCallback)
let grabbedFrame = -1;
let waiting = false; // the worker is idle, waiting for a new camera frame
let window1s = [];
let modelInput = null; // the frame at the size the model is given

function applyParams() {
  const params = new URLSearchParams(location.search);
  const fields = [["model", "cam-model"], ["detail", "cam-detail"], ["input", "cam-input"],
                  ["bg", "cam-bg"]];
  for (const [key, id] of fields) {
    if (params.has(key)) $(id).value = params.get(key);
  }
  if (params.has("color")) $("cam-color").value = `#${params.get("color").replace(/^#/, "")}`;
}

function say(text) { view.status.textContent = text; }

async function start() {
  view.start.disabled = true;
  try {
    const model = $("cam-model").value;
    const resp = await fetch(`${MODEL_BASE}${model}.json`);
    const spec = await resp.json();
    if (!resp.ok) throw new Error(spec.detail || `model ${model} is not available`);
    const copyleft = spec.copyleft ?? COPYLEFT.test(spec.license || "");
    if (copyleft && !(await consent(spec))) {
      view.start.disabled = false;
      return;
    }
    await loadModel(model);
    await openCamera();
    stats.running = true;
    view.stop.disabled = false;
    say(`Running ${model} on this device (${stats.threads} thread${stats.threads > 1 ? "s" : ""}).`);
    next();
  } catch (err) {
    say(`Could not start: ${err.message || err}`);
    view.start.disabled = false;
  }
}

// Copyleft weights sent to a browser are distributed to its user: say so, and ask (once per
// weights file: the answer is remembered in this browser).
function consent(spec) {
  const key = `alphacut-consent-${spec.name}-${spec.sha256 || "unpinned"}`;
  if (localStorage.getItem(key) === "yes") return Promise.resolve(true);
  const panel = $("cam-licence");
  const mb = spec.size_bytes ? ` (${(spec.size_bytes / 1e6).toFixed(0)} MB)` : "";
  $("cam-licence-text").textContent =
    `The ${spec.name} weights${mb} are licensed ${spec.license}. Downloading them into this ` +
    `browser distributes them to you under that licence; its terms apply to the weights, ` +
    `not to your pictures. Download them?`;
  panel.hidden = false;
  return new Promise((resolve) => {
    $("cam-accept").onclick = () => {
      panel.hidden = true;
      localStorage.setItem(key, "yes");
      resolve(true);
    };
    $("cam-decline").onclick = () => {
      panel.hidden = true;
      say("The model was not downloaded. MODNet (Apache-2.0) needs no such notice.");
      resolve(false);
    };
  });
}

function loadModel(model) {
  const detail = Number($("cam-detail").value);
  const key = `${model}:${detail}`;
  if (worker && loaded === key) return Promise.resolve();
  if (worker) worker.terminate();
  worker = new Worker("/static/camera-worker.js", { type: "module" });
  say(`Loading ${model}…`);
  return new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => {
      if (data.type === "progress") showProgress(data.loaded, data.total);
      else if (data.type === "ready") {
        view.progress.hidden = true;
        loaded = key;
        stats.model = model;
        stats.threads = data.threads;
        worker.onmessage = onWorker;
        resolve();
      } else if (data.type === "error") reject(new Error(data.message));
    };
    const asked = new URLSearchParams(location.search).get("threads");
    const threads = asked === null ? DEFAULT_THREADS : Number(asked) || 0;
    worker.postMessage({ type: "load", model, detail, threads, ortBase: ORT_BASE,
                         modelBase: MODEL_BASE });
  });
}

function showProgress(done, total) {
  view.progress.hidden = false;
  view.progress.value = total ? done / total : 0;
  say(`Downloading the model: ${(done / 1e6).toFixed(1)} MB` +
      (total ? ` of ${(total / 1e6).toFixed(1)} MB` : ""));
}

async function openCamera() {
  stream = await navigator.mediaDevices.getUserMedia({
    video: { width: { ideal: 640 }, height: { ideal: 360 } }, audio: false,
  });
  view.video.srcObject = stream;
  await view.video.play();
  const w = view.video.videoWidth, h = view.video.videoHeight;
  view.out.width = w;
  view.out.height = h;
  grabs = [0, 1].map(() => canvas(w, h));
  const side = Math.min(Math.max(w, h), Number($("cam-input").value) || Math.max(w, h));
  const scale = side / Math.max(w, h);
  modelInput = canvas(Math.round(w * scale / 2) * 2, Math.round(h * scale / 2) * 2, true);
  latestFrame = 0;
  grabbedFrame = -1;
  const onFrame = (_now, meta) => {
    latestFrame = meta.presentedFrames;
    if (waiting) next();
    if (stream) view.video.requestVideoFrameCallback(onFrame);
  };
  view.video.requestVideoFrameCallback(onFrame);
}

function canvas(w, h, readback = false) {
  const c = new OffscreenCanvas(w, h);
  c.ctx = c.getContext("2d", { willReadFrequently: readback });
  return c;
}

// Send the newest camera frame to the worker (once per frame the camera presents).
function next() {
  if (!stats.running) return;
  if (latestFrame === grabbedFrame) { waiting = true; return; }
  waiting = false;
  grabbedFrame = latestFrame;
  slot ^= 1;
  const grab = grabs[slot];
  grab.ctx.drawImage(view.video, 0, 0, grab.width, grab.height);
  const mi = modelInput;
  mi.ctx.drawImage(grab, 0, 0, mi.width, mi.height);
  const image = mi.ctx.getImageData(0, 0, mi.width, mi.height);
  worker.postMessage({ type: "frame", id: slot, width: image.width, height: image.height,
                       rgba: image.data.buffer }, [image.data.buffer]);
}

function onWorker({ data }) {
  if (data.type === "error") { say(`Model error: ${data.message}`); stop(); return; }
  if (data.type !== "alpha") return;
  next(); // the worker starts on the next frame while this one is composited
  const t0 = performance.now();
  composite(grabs[data.id], data.alpha, data.width, data.height);
  const ms = performance.now() - t0;
  stats.compositeMs = stats.compositeMs ? stats.compositeMs * 0.9 + ms * 0.1 : ms;
  count(data.ms);
}

let maskCanvas = null;
let person = null;
let small = null;

// Person = frame where the alpha says so, over the chosen background, on the output canvas.
function composite(frame, alpha, aw, ah) {
  const w = frame.width, h = frame.height;
  if (!maskCanvas || maskCanvas.width !== aw || maskCanvas.height !== ah) {
    maskCanvas = canvas(aw, ah);
    maskCanvas.image = new ImageData(aw, ah);
  }
  const px = maskCanvas.image.data;
  for (let i = 0, p = 3; i < alpha.length; i++, p += 4) px[p] = alpha[i] * 255 + 0.5;
  maskCanvas.ctx.putImageData(maskCanvas.image, 0, 0);
  if (!person || person.width !== w || person.height !== h) person = canvas(w, h);
  const pc = person.ctx;
  pc.globalCompositeOperation = "copy";
  pc.imageSmoothingEnabled = true;
  pc.drawImage(maskCanvas, 0, 0, w, h);
  pc.globalCompositeOperation = "source-in";
  pc.drawImage(frame, 0, 0);
  pc.globalCompositeOperation = "source-over";
  const ctx = view.out.getContext("2d");
  drawBackground(ctx, frame, w, h);
  ctx.drawImage(person, 0, 0);
}

function drawBackground(ctx, frame, w, h) {
  const mode = $("cam-bg").value;
  if (mode === "color" || (mode === "image" && !background)) {
    ctx.fillStyle = $("cam-color").value;
    ctx.fillRect(0, 0, w, h);
  } else if (mode === "image") {
    const s = Math.max(w / background.width, h / background.height); // cover
    const bw = background.width * s, bh = background.height * s;
    ctx.drawImage(background, (w - bw) / 2, (h - bh) / 2, bw, bh);
  } else {
    blur(ctx, frame, w, h);
  }
}

// A cheap strong blur: the frame shrunk 16x in two smoothed steps, then stretched back.
function blur(ctx, frame, w, h) {
  const sw = Math.max(1, Math.round(w / 16)), sh = Math.max(1, Math.round(h / 16));
  if (!small || small.tiny.width !== sw) {
    small = { mid: canvas(sw * 4, sh * 4), tiny: canvas(sw, sh) };
    for (const c of [small.mid, small.tiny]) c.ctx.imageSmoothingQuality = "high";
  }
  small.mid.ctx.drawImage(frame, 0, 0, sw * 4, sh * 4);
  small.tiny.ctx.drawImage(small.mid, 0, 0, sw, sh);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(small.tiny, 0, 0, w, h);
}

function count(ms) {
  const now = performance.now();
  stats.frames += 1;
  stats.inferMs = stats.inferMs ? stats.inferMs * 0.9 + ms * 0.1 : ms;
  window1s.push(now);
  while (window1s[0] < now - 1000) window1s.shift();
  stats.fps = window1s.length;
  if (stats.frames % 5 === 0) {
    view.fps.textContent = `${stats.fps} fps · model ${stats.inferMs.toFixed(0)} ms`;
  }
  document.body.dataset.frames = String(stats.frames);
}

function stop() {
  stats.running = false;
  if (stream) for (const track of stream.getTracks()) track.stop();
  stream = null;
  view.stop.disabled = true;
  view.start.disabled = false;
  say("Camera off.");
}

async function pickImage() {
  const file = $("cam-image").files[0];
  background = file ? await createImageBitmap(file).catch(() => null) : null;
  if (file && !background) say("That image could not be read; using the colour instead.");
  if (background) $("cam-bg").value = "image";
}

// Offer only the models this server serves (their spec answers); say so for the others.
async function markServed() {
  const select = $("cam-model");
  for (const option of select.options) {
    const resp = await fetch(`${MODEL_BASE}${option.value}.json`).catch(() => null);
    option.disabled = !(resp && resp.ok);
    if (option.disabled) option.textContent += " · not on this server";
  }
  const served = [...select.options].filter((o) => !o.disabled);
  if (!served.length) {
    view.start.disabled = true;
    say("This server offers no people model for the camera (it needs rvm or modnet in " +
        "its models list).");
  } else if (select.selectedOptions[0].disabled) {
    select.value = served[0].value;
  }
}

applyParams();
await markServed();
view.start.addEventListener("click", start);
view.stop.addEventListener("click", stop);
$("cam-image").addEventListener("change", pickImage);
for (const id of ["cam-model", "cam-detail", "cam-input"]) {
  $(id).addEventListener("change", () => { if (stats.running) { stop(); start(); } });
}
document.body.dataset.ready = "1";
