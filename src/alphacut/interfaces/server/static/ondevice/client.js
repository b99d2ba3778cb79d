// The page's side of the in-page model: one worker (worker.js), the model specs and the
// mask maths around a forward pass. Every URL is relative to this file, so the same modules
// work under `alphacut serve` (/static/ondevice/) and in an exported static site.

import * as imaging from "../imaging.js";
import { tensorFor } from "./preprocess.js";

const BASE = new URL("../../", import.meta.url); // the site root
export const ORT_BASE = new URL("web/ort/", BASE).href;
export const MODELS_BASE = new URL("web/models/", BASE).href;
export const STATUS_URL = new URL("web/status.json", BASE).href;

// Can this browser run the model itself? (a module worker and WebAssembly with SIMD)
export function deviceSupported() {
  if (typeof Worker === "undefined" || typeof WebAssembly === "undefined") return false;
  // the smallest module using a v128 op: validates only where SIMD is supported
  const simd = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1,
    0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);
  return WebAssembly.validate(simd);
}

// What this site serves for the in-page model: {runtime: {ready}, models: [...]}, or null.
export async function webStatus() {
  try {
    const resp = await fetch(STATUS_URL, { cache: "no-cache" });
    return resp.ok ? await resp.json() : null;
  } catch (err) {
    return null;
  }
}

export async function modelSpec(name) {
  const resp = await fetch(new URL(`${encodeURIComponent(name)}.json`, MODELS_BASE),
                           { cache: "no-cache" });
  if (!resp.ok) throw new Error(`model ${name} is not offered here (HTTP ${resp.status})`);
  const spec = await resp.json();
  spec.onnx_url = new URL(spec.onnx_url || `${name}.onnx`, MODELS_BASE).href;
  return spec;
}

export class DeviceModel {
  // `sessionOptions`: extra ONNX Runtime Web session options (benchmarks, experiments).
  constructor(sessionOptions = {}) {
    this.sessionOptions = sessionOptions;
    this.worker = null;
    this.pending = new Map();
    this.nextId = 1;
    this.spec = null;
    this.info = null;
  }

  call(msg, onProgress, transfer = []) {
    if (!this.worker) {
      this.worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
      this.worker.onmessage = (e) => this.receive(e.data);
      this.worker.onerror = (e) => this.failAll(new Error(e.message || "the model worker failed"));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }

  receive(msg) {
    const job = this.pending.get(msg.id);
    if (!job) return;
    if (msg.type === "progress") {
      if (job.onProgress) job.onProgress(msg.loaded, msg.total, msg.cached);
      return;
    }
    this.pending.delete(msg.id);
    if (msg.type === "error") job.reject(new Error(msg.message));
    else job.resolve(msg);
  }

  failAll(err) {
    for (const job of this.pending.values()) job.reject(err);
    this.pending.clear();
    if (this.worker) this.worker.terminate();
    this.worker = null;
    this.spec = null;
  }

  // Load model `name` (download with progress the first time, the Cache API after);
  // `allow(spec)` may refuse it (e.g. copyleft weights the person did not accept).
  async load(name, onProgress, allow = null) {
    if (this.spec && this.spec.name === name) return this.info;
    const spec = await modelSpec(name);
    if (allow && !(await allow(spec))) {
      throw new Error(`not downloaded: ${name}'s weights are ${spec.license} (copyleft); ` +
        "pass acceptLicense: true to accept their licence");
    }
    const reply = await this.call({ type: "load", spec, ortBase: ORT_BASE,
                                    sessionOptions: this.sessionOptions }, onProgress);
    this.spec = spec;
    this.info = reply.info;
    return this.info;
  }

  // One forward pass: tensor {data, shape} -> {mask: Float32Array (h*w) raw, w, h, ms}.
  async forward(tensor) {
    const reply = await this.call({ type: "run", data: tensor.data, shape: tensor.shape }, null,
                                  [tensor.data.buffer]);
    const [h, w] = reply.shape;
    return { raw: reply.data, w, h, ms: reply.ms };
  }

  // RGBA (W, H) -> full-resolution alpha Float32Array (W*H) in [0, 1], as the engine's
  // `fast` preset: the model's soft mask, bilinear to full size, bounded by the photo's alpha.
  async alpha(rgba, W, H) {
    const t0 = performance.now();
    const tensor = tensorFor(rgba, W, H, this.spec);
    const t1 = performance.now();
    const out = await this.forward(tensor);
    const t2 = performance.now();
    const soft = imaging.toSoftMask(out.raw, this.spec.activation);
    const alpha = imaging.upsampleBilinear(soft, out.w, out.h, W, H);
    imaging.limitByInputAlpha(alpha, rgba);
    const timings = { preprocess: t1 - t0, forward: out.ms, worker: t2 - t1 - out.ms,
                      upsample: performance.now() - t2 };
    return { alpha, ms: out.ms, timings };
  }
}
