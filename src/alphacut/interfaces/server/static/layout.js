// Marketplace layout and colour matching on the device, as the engine's core/finish/layout.py
// and colour.py: crop margin, canvas size, scale, position and match colour, named as the
// CLI's flags. Pure maths on typed arrays (RGBA bytes, alpha Float32Array in [0, 1]) plus the
// few controls, which this module adds to the page itself.

import { resizeArea, resizeLinear } from "./resize.js";
import { $ } from "./store.js";

const THRESHOLD = 0.05; // alpha above this counts as subject (core.composite.CROP_THRESHOLD)
const SPREAD_LIMIT = 2; // colour.SPREAD_LIMIT
const FIELDS = [ // [option, label, placeholder, hint]
  ["crop_margin", "Crop margin", "16px", "with Crop: 1, 2 or 4 values, px or % of the subject"],
  ["size", "Canvas", "e.g. 1000x1000", "output size WxH in px"],
  ["scale", "Scale", "e.g. 80%", "the subject's share of the canvas"],
  ["position", "Position", "center, bottom, 50%,100%", "where the subject sits; original keeps it"],
  ["match_colour", "Match colour", "0 .. 1", "shift the subject's colours toward the background"],
];
const NAMED = { center: [0.5, 0.5], centre: [0.5, 0.5], bottom: [0.5, 1], top: [0.5, 0] };
const NUMBER = /^(\d+(?:\.\d*)?|\.\d+)(px|%)?$/;

// ------------------------------------------------------------------ controls

// Add the Layout fields (folded, like Advanced, just before it); `onChange` runs on a change.
export function mountLayout(onChange) {
  const box = document.createElement("details");
  box.id = "layout";
  box.className = "advanced";
  box.innerHTML = "<summary>Layout and colour</summary><div class=\"advanced-fields\"></div>";
  for (const [name, label, placeholder, hint] of FIELDS) {
    const row = document.createElement("label");
    row.className = "field option";
    const input = Object.assign(document.createElement("input"), { type: "text", placeholder });
    input.dataset.layout = name;
    input.title = hint;
    input.addEventListener("change", onChange);
    const caption = document.createElement("span");
    caption.textContent = label;
    const help = Object.assign(document.createElement("small"), { className: "muted" });
    help.textContent = hint;
    row.append(caption, input, help);
    box.lastChild.append(row);
  }
  $("#advanced").before(box);
}

// {option: text} of the Layout fields (empty ones left out).
export function layoutSettings() {
  const out = {};
  for (const input of document.querySelectorAll("[data-layout]")) {
    if (input.value.trim() !== "") out[input.dataset.layout] = input.value.trim();
  }
  return out;
}

// ------------------------------------------------------------------ parsing (layout_spec.py)

function parts(text) {
  return String(text).trim().toLowerCase().split(/[\s,]+/).filter(Boolean);
}

function length(name, text) {
  const m = NUMBER.exec(text);
  if (!m) throw new Error(`${name}: ${JSON.stringify(text)} is not a length (30px, 30 or 10%)`);
  return { value: Number(m[1]), percent: m[2] === "%", px: m[2] === "px" };
}

export function parseMargin(text) {
  const values = parts(text).map((p) => length("crop_margin", p));
  if (![1, 2, 4].includes(values.length)) throw new Error("crop_margin takes 1, 2 or 4 values");
  if (values.some((v) => v.value > (v.percent ? 100 : 100000))) {
    throw new Error("crop_margin values must be within 0..100000px or 0..100%");
  }
  const [t, r = t, b = t, l = r] = values;
  return [t, r, b, l];
}

export function parseSize(text) {
  if (!text || ["original", "none"].includes(text.toLowerCase())) return null;
  const m = /^(\d{1,6})\s*[x×]\s*(\d{1,6})$/i.exec(text.trim());
  if (!m || +m[1] < 1 || +m[2] < 1 || +m[1] > 30000 || +m[2] > 30000) {
    throw new Error(`size must be WIDTHxHEIGHT in pixels (like 1000x1000), not ${text}`);
  }
  return [Number(m[1]), Number(m[2])];
}

export function parseScale(text) {
  if (!text || ["original", "none"].includes(text.toLowerCase())) return null;
  const m = NUMBER.exec(text.trim());
  if (!m || m[2] === "px" || +m[1] < 1 || +m[1] > 100) {
    throw new Error(`scale must be a percentage within 1%..100%, not ${text}`);
  }
  return Number(m[1]) / 100;
}

export function parsePosition(text) {
  if (!text || text.toLowerCase() === "none") return null;
  const t = text.trim().toLowerCase();
  if (t === "original") return "original";
  if (NAMED[t]) return NAMED[t];
  const values = parts(t).map((p) => length("position", p));
  if (![1, 2].includes(values.length) || values.some((v) => v.px || v.value > 100)) {
    throw new Error(`position must be center, bottom, top, original or x%,y%, not ${text}`);
  }
  return [values[0].value / 100, (values[1] || values[0]).value / 100];
}

// ------------------------------------------------------------------ layout (layout.py)

function tightBox(alpha, w, h) {
  let top = h, bottom = -1, left = w, right = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (alpha[y * w + x] > THRESHOLD) {
        if (y < top) top = y;
        if (y > bottom) bottom = y;
        if (x < left) left = x;
        if (x > right) right = x;
      }
    }
  }
  return bottom < 0 ? null : [top, bottom + 1, left, right + 1];
}

function marginBox([y0, y1, x0, x1], margin) {
  const [t, r, b, l] = parseMargin(margin);
  const px = (v, whole) => Math.round(v.percent ? (v.value * whole) / 100 : v.value);
  const bh = y1 - y0, bw = x1 - x0;
  return [y0 - px(t, bh), y1 + px(b, bh), x0 - px(l, bw), x1 + px(r, bw)];
}

// {canvas: [h, w], factor, offset: [y, x]} as layout.place.
export function place([ph, pw], [y0, y1, x0, x1], size, scale, position) {
  const [ch, cw] = size ? [size[1], size[0]] : [ph, pw];
  const fit = Math.min(ch / ph, cw / pw);
  const bh = y1 - y0, bw = x1 - x0;
  const factor = scale === null ? fit : scale * Math.min(ch / bh, cw / bw);
  const where = position === null ? (scale === null ? "original" : [0.5, 0.5]) : position;
  let top, left;
  if (where === "original") {
    top = (ch - fit * ph) / 2 + (fit * (y0 + y1)) / 2 - (factor * bh) / 2;
    left = (cw - fit * pw) / 2 + (fit * (x0 + x1)) / 2 - (factor * bw) / 2;
  } else {
    left = where[0] * (cw - factor * bw);
    top = where[1] * (ch - factor * bh);
  }
  return { canvas: [ch, cw], factor, offset: [top - factor * y0, left - factor * x0] };
}

// The picture (RGBA bytes, alpha) scaled and shifted onto the canvas, premultiplied.
function render(rgba, alpha, w, h, { canvas: [ch, cw], factor: f, offset: [oy, ox] }) {
  const out = new Uint8ClampedArray(ch * cw * 4);
  const outAlpha = new Float32Array(ch * cw);
  const span = (o, canvas, size) => [Math.max(Math.floor(-o / f) - 1, 0),
                                     Math.min(Math.ceil((canvas - o) / f) + 1, size)];
  const [sy0, sy1] = span(oy, ch, h);
  const [sx0, sx1] = span(ox, cw, w);
  const dy0 = Math.round(oy + f * sy0), dy1 = Math.round(oy + f * sy1);
  const dx0 = Math.round(ox + f * sx0), dx1 = Math.round(ox + f * sx1);
  if (sy0 >= sy1 || sx0 >= sx1 || dy1 <= dy0 || dx1 <= dx0) return { out, outAlpha };
  const sw = sx1 - sx0, sh = sy1 - sy0, dw = dx1 - dx0, dh = dy1 - dy0;
  const src = new Float32Array(sw * sh * 4); // premultiplied r, g, b and alpha
  for (let y = 0; y < sh; y++) {
    for (let x = 0; x < sw; x++) {
      const i = (sy0 + y) * w + sx0 + x, k = (y * sw + x) * 4, a = alpha[i];
      src[k] = rgba[i * 4] * a; src[k + 1] = rgba[i * 4 + 1] * a;
      src[k + 2] = rgba[i * 4 + 2] * a; src[k + 3] = a;
    }
  }
  const same = dw === sw && dh === sh;
  const big = same ? src : (f < 1 ? resizeArea : resizeLinear)(src, sw, sh, 4, dw, dh);
  for (let y = Math.max(dy0, 0); y < Math.min(dy1, ch); y++) {
    for (let x = Math.max(dx0, 0); x < Math.min(dx1, cw); x++) {
      const k = ((y - dy0) * dw + x - dx0) * 4, j = y * cw + x;
      const a = Math.min(Math.max(big[k + 3], 0), 1);
      outAlpha[j] = a;
      for (let c = 0; c < 3; c++) out[j * 4 + c] = a > 0 ? big[k + c] / a : 0;
      out[j * 4 + 3] = 255;
    }
  }
  return { out, outAlpha };
}

// {rgba, alpha, width, height} after crop (+ crop_margin), size, scale and position.
export function arrange(rgba, alpha, w, h, crop, opts) {
  const size = parseSize(opts.size), scale = parseScale(opts.scale);
  const position = parsePosition(opts.position);
  let box = tightBox(alpha, w, h);
  let where = null;
  if (crop && box) {
    const [y0, y1, x0, x1] = marginBox(box, opts.crop_margin ?? "16px");
    where = { canvas: [y1 - y0, x1 - x0], factor: 1, offset: [-y0, -x0] };
    box = [0, y1 - y0, 0, x1 - x0];
  }
  if (size || scale !== null || position !== null) {
    const picture = where ? where.canvas : [h, w];
    const next = place(picture, box || [0, picture[0], 0, picture[1]], size, scale, position);
    const [py, px] = where ? where.offset : [0, 0];
    next.offset = [next.offset[0] + next.factor * py, next.offset[1] + next.factor * px];
    where = next;
  }
  if (!where) return { rgba, alpha, width: w, height: h };
  const { out, outAlpha } = render(rgba, alpha, w, h, where);
  return { rgba: out, alpha: outAlpha, width: where.canvas[1], height: where.canvas[0] };
}

// ------------------------------------------------------------------ colour (colour.py)

const WHITE = [0.950456, 1, 1.088754]; // D65, as OpenCV
const lin = (v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
const gam = (v) => (v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055);
const fLab = (t) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
const fInv = (t) => (t > 0.206893 ? t ** 3 : (t - 16 / 116) / 7.787);

export function toLab(r, g, b) {
  const [R, G, B] = [r / 255, g / 255, b / 255].map(lin);
  const x = (0.412453 * R + 0.35758 * G + 0.180423 * B) / WHITE[0];
  const y = 0.212671 * R + 0.71516 * G + 0.072169 * B;
  const z = (0.019334 * R + 0.119193 * G + 0.950227 * B) / WHITE[2];
  const L = y > 0.008856 ? 116 * Math.cbrt(y) - 16 : 903.3 * y;
  return [L, 500 * (fLab(x) - fLab(y)), 200 * (fLab(y) - fLab(z))];
}

export function fromLab(L, a, b) {
  const fy = (L + 16) / 116;
  const y = L > 7.9996 ? fy ** 3 : L / 903.3;
  const x = fInv(fy + a / 500) * WHITE[0], z = fInv(fy - b / 200) * WHITE[2];
  const R = 3.240479 * x - 1.53715 * y - 0.498535 * z;
  const G = -0.969256 * x + 1.875991 * y + 0.041556 * z;
  const B = 0.055648 * x - 0.204043 * y + 1.057311 * z;
  return [R, G, B].map((v) => Math.round(gam(Math.min(Math.max(v, 0), 1)) * 255));
}

// Weighted Lab {mean, std} of RGBA bytes (weights: alpha, or all 1 when null).
export function labStats(rgba, weight) {
  const sum = [0, 0, 0], sq = [0, 0, 0];
  let total = 0;
  const n = rgba.length / 4, step = Math.max(1, Math.floor(n / 250000));
  for (let i = 0; i < n; i += step) {
    const w = weight ? weight[i] : 1;
    if (w <= 0) continue;
    const lab = toLab(rgba[i * 4], rgba[i * 4 + 1], rgba[i * 4 + 2]);
    for (let c = 0; c < 3; c++) { sum[c] += w * lab[c]; sq[c] += w * lab[c] * lab[c]; }
    total += w;
  }
  const mean = sum.map((s) => (total ? s / total : 0));
  const std = sq.map((s, c) => Math.sqrt(Math.max(total ? s / total - mean[c] ** 2 : 0, 0)));
  return { mean, std };
}

// RGBA bytes with the subject's Lab statistics moved toward `target` by `strength`.
export function matchColour(rgba, alpha, strength, target) {
  if (!(strength > 0) || !target) return rgba;
  const { mean, std } = labStats(rgba, alpha);
  const ratio = std.map((s, c) => {
    const r = s > 1e-6 ? target.std[c] / s : 1;
    return Math.min(Math.max(r, 1 / SPREAD_LIMIT), SPREAD_LIMIT) ** strength;
  });
  const shift = mean.map((m, c) => m + strength * (target.mean[c] - m));
  const out = new Uint8ClampedArray(rgba);
  for (let i = 0; i < alpha.length; i++) {
    if (alpha[i] <= 0) continue;
    const lab = toLab(rgba[i * 4], rgba[i * 4 + 1], rgba[i * 4 + 2]);
    out.set(fromLab(...lab.map((v, c) => (v - mean[c]) * ratio[c] + shift[c])), i * 4);
  }
  return out;
}

// The match_colour step: toward a covered background image (RGBA bytes) or a flat [r, g, b].
export function finishColour(rgba, alpha, strength, backdrop, flat) {
  if (!(strength > 0) || (!backdrop && !flat)) return rgba;
  const target = backdrop ? labStats(backdrop, null) : { mean: toLab(...flat), std: [0, 0, 0] };
  return matchColour(rgba, alpha, strength, target);
}
