// One card per image, each holding its own state: the file, the full-resolution foreground
// and alpha once made, the current render (the file a download gives), and its DOM.

import { postImage, unavailable, userMessage } from "./api.js";
import { canvasOf, coverRGBA, decode, encode, rgbaOf } from "./canvas.js";
import { fillPresets, modelInfo, requestKey, settings } from "./controls.js";
import * as imaging from "./imaging.js";
import { $, announce, changed, store } from "./store.js";
import { DeviceModel } from "./ondevice/client.js";
import { attachZoom } from "./zoom.js";

const UPLOAD_TYPE = "image/webp"; // keeps the small copy small; JPEG blocks hurt small models
const device = new DeviceModel(); // the in-page model, shared by every card

export class Card {
  constructor(file) {
    this.file = file;
    this.name = file.name || "pasted image";
    this.status = "waiting"; // waiting | working | done | failed | needs-server
    this.made = null; // {rgba, alpha, width, height, key, where}
    this.result = null; // {blob, url, name} of what is shown
    this.rendering = null; // the render in progress (a Promise)
    this.el = $("#card").content.firstElementChild.cloneNode(true);
    this.wire();
    $("#results").append(this.el);
  }

  q(sel) {
    return $(sel, this.el);
  }

  wire() {
    this.beforeUrl = URL.createObjectURL(this.file);
    this.q(".before").src = this.beforeUrl;
    this.q(".before").addEventListener("error", () => this.q(".before").removeAttribute("src"));
    this.q(".name").textContent = this.name;
    this.q(".name").title = this.name;
    this.q("progress").setAttribute("aria-label", `Progress: ${this.name}`);
    const slider = this.q(".slider");
    slider.setAttribute("aria-label", `Compare before and after: ${this.name}`);
    const setPos = () => this.el.style.setProperty("--pos", `${slider.value}%`);
    slider.addEventListener("input", setPos);
    setPos();
    attachZoom(this.q(".compare"), { in: this.q(".zoom-in"), out: this.q(".zoom-out"),
                                     level: this.q(".zoom-level") });
    this.q(".redo").addEventListener("click", () => this.redo());
    this.q(".send-original").addEventListener("click", () => this.redo({ sendOriginal: true }));
    for (const img of [this.q(".before"), this.q(".after")]) img.draggable = false;
    this.q(".download").addEventListener("click", (e) => {
      if (!this.downloadable()) e.preventDefault();
    });
  }

  // ------------------------------------------------------------------ status

  // Run `fn`, adding its milliseconds to this.timings[stage] (shown as data-timings).
  async timed(stage, fn) {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.timings = this.timings || {};
      this.timings[stage] = (this.timings[stage] || 0) + performance.now() - t0;
      this.el.dataset.timings = JSON.stringify(this.timings);
    }
  }

  progress(percent, text, kind = "") {
    this.q("progress").value = percent;
    const label = this.q(".state");
    label.textContent = text;
    label.title = text;
    label.dataset.kind = kind;
    this.el.dataset.status = this.status;
  }

  warn(text) {
    const w = this.q(".warning");
    w.textContent = text || "";
    w.hidden = !text;
  }

  downloadable() {
    return this.status === "done" && this.result !== null && this.rendering === null;
  }

  showDownload() {
    const link = this.q(".download");
    const ok = this.downloadable();
    link.hidden = !ok;
    if (ok) {
      link.href = this.result.url;
      link.download = this.result.name;
      link.textContent = `Download ${this.result.label}`;
    } else {
      link.removeAttribute("href");
    }
    link.setAttribute("aria-disabled", String(!ok));
  }

  setResult(result) {
    if (this.result) URL.revokeObjectURL(this.result.url);
    this.result = result;
    if (result) this.q(".after").src = result.url;
    else this.q(".after").removeAttribute("src");
  }

  redo({ sendOriginal = false } = {}) {
    this.status = "waiting";
    this.sendOriginal = sendOriginal || this.sendOriginal;
    this.made = null;
    this.setResult(null);
    this.warn("");
    this.q(".redo").hidden = true;
    this.q(".send-original").hidden = true;
    this.showDownload();
    this.progress(0, "Waiting…");
    changed();
    document.dispatchEvent(new Event("alphacut:queued")); // main.js runs the queue
  }

  // ------------------------------------------------------------------ processing

  async process() {
    const opts = settings();
    this.status = "working";
    this.showDownload();
    this.progress(2, "Opening…");
    changed();
    try {
      this.timings = {};
      const source = await this.timed("decode", () => decode(this.file));
      const local = opts.mode !== "server" && !this.sendOriginal;
      if (!source && local) {
        if (store.deviceOnly) throw new Error("This browser cannot open this file type.");
        this.needsServer(opts.mode);
        return;
      }
      if (source && local && opts.mode === "device") this.made = await this.inPage(source, opts);
      else if (source && local) this.made = await this.onDevice(source, opts);
      else this.made = await this.onServer(source, opts);
      if (source) source.close();
      this.status = "done";
      await this.render();
      if (this.status !== "done") return; // the render failed and said so
      const where = this.made.where === "device" ? "on device" : `on ${this.made.where}`;
      if (this.made.ms) this.q(".state").dataset.ms = String(Math.round(this.made.ms));
      this.progress(100, `Done · ${where}`, "ok");
      announce(`${this.name}: done ${where}.`);
    } catch (err) {
      this.fail(err, opts);
    } finally {
      this.q(".redo").hidden = this.status === "working" || this.status === "needs-server";
      changed();
    }
  }

  fail(err, opts) {
    this.status = "failed";
    this.made = null;
    this.setResult(null);
    this.showDownload();
    const text = userMessage(err);
    if (unavailable(err)) {
      store.unavailable.add(`${opts.model}|${opts.preset}`);
      fillPresets();
    }
    this.progress(0, text, "error");
    announce(`${this.name}: ${text}`, true);
  }

  // Privacy mode and the browser cannot open the file: ask before sending the original.
  needsServer(where) {
    this.status = "needs-server";
    const text = `This browser cannot open this file type, and ${where === "device"
      ? "on-device mode" : "mask-only mode"} keeps the original here. Send the original to ` +
      "the server for this image?";
    this.progress(0, text, "error");
    this.q(".send-original").hidden = false;
    announce(`${this.name}: ${text}`, true);
  }

  // The model runs in this page (ondevice/worker.js): no request carries the image.
  async inPage(source, opts) {
    const W = source.width;
    const H = source.height;
    this.q(".dims").textContent = `${W} × ${H}`;
    const info = modelInfo(opts.model);
    if (info.copyleft && !consented(info)) throw new Error(`Not downloaded: ${info.name}'s ` +
      `weights are ${info.license}; choose another model or accept its licence.`);
    this.progress(4, `Loading model ${opts.model}…`);
    const backend = await device.load(opts.model, (done, total, cached) => {
      const text = cached ? `Model ${opts.model} from this browser's cache`
        : `Downloading model ${opts.model}: ${mb(done)} of ${mb(total)} MB (once)`;
      this.progress(4 + (total ? 36 * done / total : 0), text);
    });
    this.progress(45, `Finding the subject on this device (${describe(backend)})…`);
    const rgba = await this.timed("pixels", () => rgbaOf(source));
    const { alpha, ms, timings } = await device.alpha(rgba, W, H);
    Object.assign(this.timings, timings);
    return { rgba, alpha, width: W, height: H, key: requestKey(opts), where: "device", ms,
             sent: null };
  }

  // A downsized copy to /v1/mask; the matte is brought to full resolution here.
  async onDevice(source, opts) {
    const W = source.width;
    const H = source.height;
    this.q(".dims").textContent = `${W} × ${H}`;
    this.progress(5, "Downsizing…");
    const rgba = rgbaOf(source);
    const [w, h] = imaging.fitWithin(W, H, Math.max(...modelInfo(opts.model).input_size));
    const small = canvasOf(imaging.resizeU8(rgba, W, H, 4, w, h), w, h);
    const copy = await encode(small, UPLOAD_TYPE, 0.92).catch(() => encode(small, "image/png"));
    const body = new Uint8Array(await copy.arrayBuffer());
    const url = `/v1/mask?${query({ model: opts.model, preset: opts.preset, ...opts.advanced })}`;
    const maskBlob = await postImage(url, body, copy.type, (f, t) => this.progress(10 + f * 50, t));
    this.progress(70, "Refining edges on this device…");
    await new Promise((r) => setTimeout(r, 0)); // let the progress paint before the heavy loop
    const maskImage = await decode(maskBlob);
    if (!maskImage) throw new Error("the server's mask could not be read");
    const mw = maskImage.width;
    const mh = maskImage.height;
    const mask = imaging.channelToFloat(rgbaOf(maskImage), mw * mh);
    maskImage.close();
    const alpha = opts.preset === "fast"
      ? imaging.upsampleBilinear(mask, mw, mh, W, H)
      : imaging.upsampleGuided(mask, mw, mh, rgba, W, H);
    imaging.limitByInputAlpha(alpha, rgba);
    return { rgba, alpha, width: W, height: H, key: requestKey(opts), where: "device",
             sent: { width: w, height: h, bytes: body.length } };
  }

  // The original file, untouched, to /v1/remove; a transparent PNG cut-out comes back.
  async onServer(source, opts) {
    if (!source) announce(`${this.name}: this browser cannot open it; sent to the server.`);
    const body = new Uint8Array(await this.file.arrayBuffer());
    const url = `/v1/remove?${query({ model: opts.model, preset: opts.preset, format: "png",
                                      ...opts.advanced })}`;
    const blob = await postImage(url, body, this.file.type || "application/octet-stream",
                                 (f, t) => this.progress(10 + f * 60, t));
    this.progress(85, "Received the cut-out");
    const cut = await decode(blob);
    if (!cut) throw new Error("the server's cut-out could not be read");
    const W = cut.width;
    const H = cut.height;
    this.q(".dims").textContent = `${W} × ${H}`;
    const rgba = rgbaOf(cut);
    cut.close();
    if (!source) this.q(".before").src = URL.createObjectURL(blob);
    const alpha = imaging.channelToFloat(rgba, W * H, 3);
    return { rgba, alpha, width: W, height: H, key: requestKey(opts),
             where: source ? "server" : "server (the browser cannot open this file type)" };
  }

  // ------------------------------------------------------------------ rendering

  // Background, crop and format applied on the device; downloads are off until it is done.
  render() {
    if (!this.made) return Promise.resolve();
    const run = (this.rendering || Promise.resolve()).then(() => this.renderNow())
      .catch((err) => this.fail(err, settings())); // never leave an older render on offer
    const mine = run.finally(() => {
      if (this.rendering === mine) {
        this.rendering = null;
        this.showDownload();
        changed();
      }
    });
    this.rendering = mine;
    this.showDownload();
    changed();
    return mine;
  }

  async renderNow() {
    const t0 = performance.now();
    const opts = settings();
    const { rgba, alpha, width: W, height: H } = this.made;
    let pixels;
    if (opts.bg === "color" || (opts.bg === "transparent" && !opts.format.alpha)) {
      pixels = imaging.overColor(rgba, alpha, imaging.parseHex(opts.color));
    } else if (opts.bg === "image" && store.bgImage) {
      pixels = imaging.blend(rgba, alpha, coverRGBA(store.bgImage, W, H));
    } else {
      pixels = imaging.cutout(rgba, alpha);
    }
    const box = opts.crop ? imaging.subjectBox(alpha, W, H) : null;
    const out = imaging.crop(pixels, W, H, 4, box);
    this.timings = { ...(this.timings || {}), composite: performance.now() - t0 };
    const blob = await this.timed("encode", () => encode(canvasOf(out.data, out.width,
                                                                  out.height),
                                                         opts.format.mime, 0.92));
    const label = opts.format.name === "jpeg" ? "JPG" : opts.format.name.toUpperCase();
    this.setResult({ blob, url: URL.createObjectURL(blob), label,
                     name: outputName(this.name, opts.format) });
    this.el.classList.toggle("cropped", opts.crop);
    const empty = imaging.solidFraction(alpha) < imaging.EMPTY_FRACTION;
    this.warn(empty ? "No subject found: the result is almost fully transparent. Try another " +
      "model or quality." : "");
    if (empty) announce(`${this.name}: no subject found, the result is almost empty.`, true);
  }

  clear() {
    URL.revokeObjectURL(this.beforeUrl);
    this.setResult(null);
    this.status = "cleared";
  }
}

function mb(n) {
  return (n / 1e6).toFixed(1);
}

function describe(info) {
  if (!info) return "";
  return info.backend === "webgpu" ? "WebGPU" : `WebAssembly, ${info.threads} thread` +
    (info.threads === 1 ? "" : "s");
}

// Sending AGPL/GPL weights to this browser is distribution: ask once per model and session.
function consented(info) {
  const key = `alphacut-consent-${info.name}-${info.license}`;
  if (sessionStorage.getItem(key) === "yes") return true;
  const ok = window.confirm(`${info.name}'s weights are licensed ${info.license}. Running it ` +
    "on this device means this site sends you (distributes) those weights; the licence's " +
    `terms come with them (see its notice). Download ${info.name} (${mb(info.size_bytes || 0)} ` +
    "MB)?");
  if (ok) sessionStorage.setItem(key, "yes");
  return ok;
}

function query(params) {
  return new URLSearchParams(params).toString();
}

export function outputName(name, format) {
  const stem = name.replace(/\.[^.]+$/, "") || "image";
  return `${stem}-cutout${format.extensions[0]}`;
}
