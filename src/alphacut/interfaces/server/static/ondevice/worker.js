// The in-page model: ONNX Runtime Web in a module worker. Loads the pinned runtime from this
// site (never a CDN), the model from the Cache API or this site (streamed, with progress,
// sha256-checked, then cached), and runs it. No image bytes leave the page: the worker only
// ever fetches the runtime and the weights.
//
// Messages in:  {id, type: "load", spec, ortBase}  /  {id, type: "run", data, shape}
// Messages out: {id, type: "progress", loaded, total, cached}  /  {id, type: "ready", info}
//               {id, type: "result", data, shape, ms}  /  {id, type: "error", message}

const CACHE_NAME = "alphacut-models-v1";
let ort = null; // the loaded runtime module
let backend = null; // "webgpu" | "wasm"
let session = null;
let loaded = null; // the spec the session runs

function post(msg, transfer = []) {
  self.postMessage(msg, transfer);
}

async function importRuntime(ortBase, build) {
  const mod = await import(`${ortBase}${build}`);
  mod.env.wasm.wasmPaths = ortBase;
  mod.env.wasm.proxy = false; // already off the main thread
  mod.env.wasm.numThreads = self.crossOriginIsolated
    ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
  return mod;
}

// The model bytes: from the Cache API when this exact file (by sha256) was seen before.
async function modelBytes(spec, id) {
  const key = new URL(`${spec.onnx_url}?sha256=${spec.sha256 || "unpinned"}`, self.location.href);
  const cache = self.caches ? await self.caches.open(CACHE_NAME).catch(() => null) : null;
  const hit = cache ? await cache.match(key) : null;
  if (hit) {
    const bytes = await hit.arrayBuffer();
    post({ id, type: "progress", loaded: bytes.byteLength, total: bytes.byteLength, cached: true });
    return bytes;
  }
  const resp = await fetch(new URL(spec.onnx_url, self.location.href));
  if (!resp.ok) {
    let detail = "";
    try { detail = (await resp.json()).detail || ""; } catch (err) { /* not JSON */ }
    throw new Error(detail || `the model download failed (HTTP ${resp.status})`);
  }
  const total = Number(resp.headers.get("Content-Length")) || spec.size_bytes || 0;
  const reader = resp.body.getReader();
  const parts = [];
  let done = 0;
  for (;;) {
    const { done: end, value } = await reader.read();
    if (end) break;
    parts.push(value);
    done += value.length;
    post({ id, type: "progress", loaded: done, total, cached: false });
  }
  const bytes = new Uint8Array(done);
  let at = 0;
  for (const p of parts) { bytes.set(p, at); at += p.length; }
  if (spec.sha256) {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    const hex = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
    if (hex !== spec.sha256) throw new Error("the downloaded model is damaged (sha256 mismatch)");
  }
  if (cache) {
    await cache.put(key, new Response(bytes, {
      headers: { "Content-Type": "application/octet-stream" } })).catch(() => {});
  }
  return bytes.buffer;
}

// A WebGPU adapter, if the browser has a usable one (headless without a GPU has none).
async function gpuAdapter() {
  if (!self.navigator.gpu) return null;
  try {
    return await self.navigator.gpu.requestAdapter();
  } catch (err) {
    return null;
  }
}

async function makeSession(bytes, ortBase, extra = {}) {
  const options = { graphOptimizationLevel: "all", ...extra };
  if (await gpuAdapter()) {
    try {
      const gpu = await importRuntime(ortBase, "ort.webgpu.min.mjs");
      const s = await gpu.InferenceSession.create(bytes, { ...options,
                                                           executionProviders: ["webgpu"] });
      ort = gpu;
      backend = "webgpu";
      return s;
    } catch (err) {
      console.warn("alphacut: WebGPU unavailable, using WebAssembly:", err);
    }
  }
  if (!ort || backend !== "wasm") ort = await importRuntime(ortBase, "ort.wasm.min.mjs");
  backend = "wasm";
  return ort.InferenceSession.create(bytes, { ...options, executionProviders: ["wasm"] });
}

async function load({ id, spec, ortBase, sessionOptions }) {
  if (loaded && loaded.sha256 === spec.sha256 && loaded.name === spec.name && session) {
    post({ id, type: "ready", info: info() });
    return;
  }
  const bytes = await modelBytes(spec, id);
  if (session) await session.release().catch(() => {});
  session = null;
  session = await makeSession(bytes, ortBase, sessionOptions);
  loaded = spec;
  post({ id, type: "ready", info: info() });
}

function info() {
  return { backend, threads: backend === "wasm" ? ort.env.wasm.numThreads : 0,
           isolated: self.crossOriginIsolated, model: loaded && loaded.name };
}

async function run({ id, data, shape }) {
  if (!session) throw new Error("no model is loaded");
  const spec = loaded;
  const inputName = spec.input_name || session.inputNames[0];
  const outputName = spec.output_name || session.outputNames[spec.output_index || 0];
  const t0 = performance.now();
  const feeds = { [inputName]: new ort.Tensor("float32", data, shape) };
  const out = await session.run(feeds, [outputName]);
  const tensor = out[outputName];
  const dims = tensor.dims;
  const h = dims[dims.length - 2], w = dims[dims.length - 1];
  const raw = tensor.getData ? await tensor.getData() : tensor.data;
  const first = Float32Array.from(raw.subarray(0, h * w)); // channel 0 of item 0
  for (const t of Object.values(out)) if (t.dispose) t.dispose();
  post({ id, type: "result", data: first, shape: [h, w], ms: performance.now() - t0 },
       [first.buffer]);
}

self.onmessage = async (e) => {
  const msg = e.data;
  try {
    if (msg.type === "load") await load(msg);
    else if (msg.type === "run") await run(msg);
    else throw new Error(`unknown message ${msg.type}`);
  } catch (err) {
    post({ id: msg.id, type: "error", message: String((err && err.message) || err) });
  }
};
