// The live camera's model, in a Web Worker: ONNX Runtime Web (wasm, threads when the page is
// cross-origin isolated) runs a people model on each frame and answers with its alpha.
// Nothing is sent anywhere: the worker only GETs the runtime and the weights, same-origin.
//
// Messages in:  {type: "load", model, detail, ortBase, modelBase, threads (0: as many as useful)}
//               {type: "frame", id, width, height, rgba: ArrayBuffer (RGBA uint8, width*height*4)}
// Messages out: {type: "progress", loaded, total} · {type: "ready", threads, spec}
//               {type: "alpha", id, width, height, alpha: Float32Array [0, 1], ms}
//               {type: "error", message}

const CACHE = "alphacut-camera-models";
let ort = null;
let session = null;
let spec = null;
let detail = 256;
let state = null; // recurrent state (RVM): input name -> tensor

self.onmessage = async (event) => {
  const msg = event.data;
  try {
    if (msg.type === "load") await load(msg);
    else if (msg.type === "frame") await frame(msg);
    else if (msg.type === "reset") state = null;
  } catch (err) {
    self.postMessage({ type: "error", message: String(err && err.message || err) });
  }
};

async function load({ model, detail: side, ortBase, modelBase, threads: wanted }) {
  ort = await import(`${ortBase}ort.wasm.min.mjs`);
  ort.env.wasm.wasmPaths = ortBase;
  const most = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  const threads = Math.max(1, Math.min(most, wanted || most));
  ort.env.wasm.numThreads = threads;
  spec = await (await fetch(`${modelBase}${model}.json`)).json();
  detail = side;
  const bytes = await weights(`${modelBase}${model}.onnx`);
  session = await ort.InferenceSession.create(bytes, {
    executionProviders: ["wasm"], graphOptimizationLevel: "all",
  });
  state = null;
  self.postMessage({ type: "ready", threads, spec });
}

// The weights from the Cache API when a previous visit stored them, else downloaded once with
// progress reports and stored.
async function weights(url) {
  const cache = self.caches ? await caches.open(CACHE) : null;
  const hit = cache && await cache.match(url);
  if (hit) return new Uint8Array(await hit.arrayBuffer());
  const response = await fetch(url);
  if (!response.ok) throw new Error(`weights not available (${response.status})`);
  const total = Number(response.headers.get("content-length")) || 0;
  const reader = response.body.getReader();
  const parts = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    loaded += value.length;
    self.postMessage({ type: "progress", loaded, total });
  }
  const bytes = new Uint8Array(loaded);
  let at = 0;
  for (const part of parts) { bytes.set(part, at); at += part.length; }
  if (cache) await cache.put(url, new Response(bytes, { headers: response.headers }));
  return bytes;
}

async function frame({ id, width, height, rgba }) {
  const t0 = performance.now();
  const pixels = new Uint8Array(rgba);
  const out = spec.state && spec.state.length
    ? await recurrent(pixels, width, height)
    : await still(pixels, width, height);
  self.postMessage({ type: "alpha", id, ...out, ms: performance.now() - t0 },
                   [out.alpha.buffer]);
}

// RVM: the full frame in [0, 1], downsample_ratio = min(1, detail / long side), four state
// tensors carried from one frame to the next (zeros 1x1x1x1 at the start).
async function recurrent(pixels, width, height) {
  const src = new ort.Tensor("float32", planar(pixels, width, height, width, height, null),
                             [1, 3, height, width]);
  if (!state) {
    state = {};
    for (const [, input] of spec.state) {
      state[input] = new ort.Tensor("float32", new Float32Array(1), [1, 1, 1, 1]);
    }
  }
  const ratio = Math.min(1, detail / Math.max(width, height));
  const feeds = { [spec.input_name]: src, ...state,
                  [spec.ratio_input]: new ort.Tensor("float32", new Float32Array([ratio]), [1]) };
  // only the alpha and the state come out of the runtime (not RVM's foreground estimate)
  const wanted = [spec.output_name, ...spec.state.map(([output]) => output)];
  const result = await session.run(feeds, wanted);
  for (const [output, input] of spec.state) state[input] = result[output];
  return { alpha: result[spec.output_name].data, width, height };
}

// MODNet (or any single-frame model): the short side resized to `detail`, both sides multiples
// of spec.multiple, normalised (x/255 - mean) / std; alpha comes back at the model's size
// (the page scales it up when compositing).
async function still(pixels, width, height) {
  const m = spec.multiple || 32;
  const scale = detail / Math.min(width, height);
  const w = Math.max(m, Math.round(width * scale / m) * m);
  const h = Math.max(m, Math.round(height * scale / m) * m);
  const input = new ort.Tensor("float32", planar(pixels, width, height, w, h, spec),
                               [1, 3, h, w]);
  const name = spec.input_name || session.inputNames[0];
  const result = await session.run({ [name]: input });
  const output = result[spec.output_name || session.outputNames[spec.output_index || 0]];
  return { alpha: output.data, width: w, height: h };
}

// RGBA (width x height) -> float32 CHW (w x h; bilinear when the sizes
// differ), x/255 then (x - mean) / std when a spec is given.
function planar(pixels, width, height, w, h, norm) {
  const out = new Float32Array(3 * w * h);
  const plane = w * h;
  const mean = norm ? norm.mean : [0, 0, 0];
  const std = norm ? norm.std : [1, 1, 1];
  const k = [0, 1, 2].map((c) => 1 / (255 * std[c]));
  const b = [0, 1, 2].map((c) => -mean[c] / std[c]);
  if (w === width && h === height) {
    for (let i = 0, p = 0; i < plane; i++, p += 4) {
      out[i] = pixels[p] * k[0] + b[0];
      out[plane + i] = pixels[p + 1] * k[1] + b[1];
      out[2 * plane + i] = pixels[p + 2] * k[2] + b[2];
    }
    return out;
  }
  const sx = width / w, sy = height / h;
  for (let y = 0; y < h; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.min(height - 1, Math.floor(fy)), y1 = Math.min(height - 1, y0 + 1);
    const wy = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = Math.max(0, (x + 0.5) * sx - 0.5);
      const x0 = Math.min(width - 1, Math.floor(fx)), x1 = Math.min(width - 1, x0 + 1);
      const wx = fx - x0;
      const i = y * w + x;
      const p00 = (y0 * width + x0) * 4, p01 = (y0 * width + x1) * 4;
      const p10 = (y1 * width + x0) * 4, p11 = (y1 * width + x1) * 4;
      for (let c = 0; c < 3; c++) {
        const top = pixels[p00 + c] * (1 - wx) + pixels[p01 + c] * wx;
        const bottom = pixels[p10 + c] * (1 - wx) + pixels[p11 + c] * wx;
        out[c * plane + i] = (top * (1 - wy) + bottom * wy) * k[c] + b[c];
      }
    }
  }
  return out;
}
