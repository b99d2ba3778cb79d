// All of the page's pixel maths: pure functions on typed arrays, no DOM (the resizes are in
// resize.js and re-exported here, so this is the one module to import).
//
// Each function mirrors one of the engine's (named in its comment) and is checked against
// golden vectors the engine writes (tests/golden/vectors.json), so the two cannot drift.
// Conventions as in the engine: images are row-major; RGB(A) uint8 interleaved; masks and
// alpha Float32Array in [0, 1], straight (not premultiplied) alpha.
//
// Before this module the page's maths differed from the engine's: box means averaged a
// clipped window (the engine reflects the border), grey was unrounded float (cv2 rounds to
// uint8 first), the mask and guide were resized by the canvas (not bilinear / area), the
// photo's own alpha was multiplied (the engine takes the minimum), and compositing went
// through the canvas's premultiplied alpha. Each now follows the engine.

import { linearTaps, resizeArea, resizeLinear, resizeU8, roundEven, toU8 } from "./resize.js";

export { resizeArea, resizeLinear, resizeLinearU8, resizeU8, roundEven, toU8 } from "./resize.js";

export const CROP_THRESHOLD = 0.05; // alpha above this counts as subject (core.composite)
export const CROP_MARGIN = 16; // default crop_margin (config)
export const WORK_MAX_SIDE = 1024; // guided filter fit resolution (core.mask)
export const GUIDED_RADIUS = 4;
export const GUIDED_EPS = 1e-3;
export const EMPTY_FRACTION = 0.002; // under 0.2 % of pixels solid: "no subject found"

// ------------------------------------------------------------------ sizes

// (width, height) scaled to fit maxSide on the long side, never enlarged (core.mask.working_size).
export function fitWithin(width, height, maxSide) {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return [Math.max(1, roundEven(width * scale)), Math.max(1, roundEven(height * scale))];
}

// ------------------------------------------------------------------ preprocess and infer

// RGB uint8 (h, w, 3) -> {data: Float32Array (1, 3, H, W), shape} as core.preprocess.to_tensor
// for a "fixed" resize spec {input_size: [H, W], scale, mean, std}.
export function toTensor(rgb, w, h, spec) {
  const [H, W] = spec.input_size;
  const small = resizeU8(rgb, w, h, 3, W, H);
  let peak = 255;
  if (spec.scale === "divide_max") {
    peak = 0;
    for (let i = 0; i < small.length; i++) if (small[i] > peak) peak = small[i];
  }
  const inv = 1 / Math.max(peak, 1e-6);
  const n = W * H;
  const data = new Float32Array(3 * n);
  for (let k = 0; k < 3; k++) {
    const mean = spec.mean[k];
    const invStd = 1 / spec.std[k];
    for (let i = 0; i < n; i++) data[k * n + i] = (small[i * 3 + k] * inv - mean) * invStd;
  }
  return { data, shape: [1, 3, H, W] };
}

// Per-channel {mean, std, min, max} of a (1, C, H, W) tensor (population std).
export function tensorStats(tensor) {
  const [, C, H, W] = tensor.shape;
  const n = H * W;
  const stats = { shape: tensor.shape, mean: [], std: [], min: [], max: [] };
  for (let k = 0; k < C; k++) {
    let sum = 0, lo = Infinity, hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = tensor.data[k * n + i];
      sum += v;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const mean = sum / n;
    let sq = 0;
    for (let i = 0; i < n; i++) sq += (tensor.data[k * n + i] - mean) ** 2;
    stats.mean.push(mean);
    stats.std.push(Math.sqrt(sq / n));
    stats.min.push(lo);
    stats.max.push(hi);
  }
  return stats;
}

// A model's raw output map -> soft mask in [0, 1] (core.infer.to_soft_masks). No stretching.
export function toSoftMask(raw, activation) {
  const out = new Float32Array(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v = activation === "sigmoid" ? 1 / (1 + Math.exp(-raw[i])) : raw[i];
    out[i] = Math.min(1, Math.max(0, v));
  }
  return out;
}

// ------------------------------------------------------------------ mask to full resolution

// Grey uint8 from RGB(A) bytes, as cv2 RGB2GRAY (fixed point, 15 bits): Uint8Array (n,).
export function grayU8(data, n, stride) {
  const out = new Uint8Array(n);
  for (let i = 0, j = 0; i < n; i++, j += stride) {
    out[i] = (data[j] * 9798 + data[j + 1] * 19235 + data[j + 2] * 3735 + 16384) >> 15;
  }
  return out;
}

// Grey in [0, 1] (core.mask.to_gray): Float32Array (n,).
export function grayFloat(data, n, stride) {
  const g = grayU8(data, n, stride);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = g[i] * (1 / 255);
  return out;
}

// Mirror index into 0..n-1 without repeating... as cv2 BORDER_REFLECT (fedcba|abcdef).
function reflect(i, n) {
  if (n === 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
  return i;
}

// Mean over a (2r+1)^2 window, borders reflected (cv2.boxFilter, BORDER_REFLECT).
export function boxMean(src, w, h, r) {
  const k = 2 * r + 1;
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  const col = new Float32Array(Math.max(w, h) + 2 * r);
  for (let y = 0; y < h; y++) {
    for (let x = -r; x < w + r; x++) col[x + r] = src[y * w + reflect(x, w)];
    let sum = 0;
    for (let t = 0; t < k; t++) sum += col[t];
    for (let x = 0; x < w; x++) {
      tmp[y * w + x] = sum / k;
      sum += col[x + k] - col[x];
    }
  }
  for (let x = 0; x < w; x++) {
    for (let y = -r; y < h + r; y++) col[y + r] = tmp[reflect(y, h) * w + x];
    let sum = 0;
    for (let t = 0; t < k; t++) sum += col[t];
    for (let y = 0; y < h; y++) {
      out[y * w + x] = sum / k;
      sum += col[y + k] - col[y];
    }
  }
  return out;
}

// Guided filter coefficients q = a * guide + b (core.mask.guided_coefficients).
export function guidedCoefficients(guide, src, w, h, r, eps) {
  const n = w * h;
  const ip = new Float32Array(n);
  const ii = new Float32Array(n);
  for (let i = 0; i < n; i++) { ip[i] = guide[i] * src[i]; ii[i] = guide[i] * guide[i]; }
  const mI = boxMean(guide, w, h, r);
  const mP = boxMean(src, w, h, r);
  const mIP = boxMean(ip, w, h, r);
  const mII = boxMean(ii, w, h, r);
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = (mIP[i] - mI[i] * mP[i]) / (mII[i] - mI[i] * mI[i] + eps);
    b[i] = mP[i] - a[i] * mI[i];
  }
  return [boxMean(a, w, h, r), boxMean(b, w, h, r)];
}

// Soft mask (w, h) -> (W, H), plain bilinear (core.mask.upsample_bilinear).
export function upsampleBilinear(mask, w, h, W, H) {
  return resizeLinear(mask, w, h, 1, W, H);
}

// Edge-aware upsampling of mask (w, h) to the size of rgba (W, H), as core.mask.upsample_guided:
// coefficients fitted at a bounded working size, applied to the full-resolution grey.
export function upsampleGuided(mask, w, h, rgba, W, H, stride = 4,
                               { radius = GUIDED_RADIUS, eps = GUIDED_EPS } = {}) {
  const [ww, wh] = fitWithin(W, H, WORK_MAX_SIDE);
  const gray = grayFloat(rgba, W * H, stride);
  const same = ww === W && wh === H;
  const guide = same ? gray : resizeArea(gray, W, H, 1, ww, wh);
  const source = resizeLinear(mask, w, h, 1, ww, wh);
  const [a, b] = guidedCoefficients(guide, source, ww, wh, radius, eps);
  // a and b resized bilinearly to (W, H) on the fly (no two full-size arrays), then a*g + b.
  const tx = linearTaps(ww, W);
  const ty = linearTaps(wh, H);
  const lerp = (m, r0, r1, x, fy) => {
    const i = tx.i0[x], j = tx.i1[x], fx = tx.f[x];
    const top = m[r0 + i] + (m[r0 + j] - m[r0 + i]) * fx;
    return top + (m[r1 + i] + (m[r1 + j] - m[r1 + i]) * fx - top) * fy;
  };
  for (let y = 0; y < H; y++) {
    const r0 = ty.i0[y] * ww, r1 = ty.i1[y] * ww, fy = ty.f[y];
    for (let x = 0, p = y * W; x < W; x++, p++) {
      const q = lerp(a, r0, r1, x, fy) * gray[p] + lerp(b, r0, r1, x, fy);
      gray[p] = Math.min(1, Math.max(0, q));
    }
  }
  return gray;
}

// The photo's own transparency bounds the result (core.mask.limit_by_input_alpha), in place.
export function limitByInputAlpha(alpha, rgba) {
  for (let i = 0; i < alpha.length; i++) alpha[i] = Math.min(alpha[i], rgba[i * 4 + 3] / 255);
  return alpha;
}

// ------------------------------------------------------------------ composite

// Float alpha -> uint8 0..255, rounded to nearest (core.composite.alpha_to_u8).
export function alphaToU8(alpha) {
  const out = new Uint8ClampedArray(alpha.length);
  for (let i = 0; i < alpha.length; i++) out[i] = toU8(Math.fround(alpha[i] * 255)); // float32 as cv2
  return out;
}

// Straight-alpha RGBA cut-out; colour under alpha 0 set to black (core.composite.cutout).
export function cutout(rgba, alpha) {
  const a8 = alphaToU8(alpha);
  const out = new Uint8ClampedArray(rgba.length);
  for (let i = 0, j = 0; i < a8.length; i++, j += 4) {
    if (a8[i] === 0) continue;
    out[j] = rgba[j];
    out[j + 1] = rgba[j + 1];
    out[j + 2] = rgba[j + 2];
    out[j + 3] = a8[i];
  }
  return out;
}

// alpha * fg + (1 - alpha) * bg, rounded half up (core.composite.blend): opaque RGBA out.
export function blend(rgba, alpha, bg) {
  const out = new Uint8ClampedArray(rgba.length);
  for (let i = 0, j = 0; i < alpha.length; i++, j += 4) {
    const a = alpha[i];
    for (let k = 0; k < 3; k++) {
      const v = rgba[j + k] * a + bg[j + k] * (1 - a);
      out[j + k] = Math.min(255, Math.max(0, Math.floor(v + 0.5)));
    }
    out[j + 3] = 255;
  }
  return out;
}

// Subject over an opaque colour [r, g, b] (core.composite.over_color): opaque RGBA.
export function overColor(rgba, alpha, color) {
  const bg = new Uint8ClampedArray(rgba.length);
  for (let j = 0; j < bg.length; j += 4) bg.set(color, j);
  return blend(rgba, alpha, bg);
}

// [r, g, b] from "#rrggbb".
export function parseHex(hex) {
  const v = parseInt(hex.replace("#", ""), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

// ------------------------------------------------------------------ crop and checks

// [y0, y1, x0, x1] around alpha > CROP_THRESHOLD plus margin, or null (core.composite.subject_box).
export function subjectBox(alpha, w, h, margin = CROP_MARGIN) {
  let top = h, bottom = -1, left = w, right = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (alpha[y * w + x] > CROP_THRESHOLD) {
        if (y < top) top = y;
        if (y > bottom) bottom = y;
        if (x < left) left = x;
        if (x > right) right = x;
      }
    }
  }
  if (bottom < 0) return null;
  return [Math.max(0, top - margin), Math.min(h, bottom + 1 + margin),
          Math.max(0, left - margin), Math.min(w, right + 1 + margin)];
}

// Crop c-channel pixels (w, h) to box [y0, y1, x0, x1] (core.composite.crop); null: a copy.
export function crop(pixels, w, h, c, box) {
  if (!box) return { data: pixels.slice(), width: w, height: h };
  const [y0, y1, x0, x1] = box;
  const cw = x1 - x0;
  const out = new pixels.constructor(cw * (y1 - y0) * c);
  for (let y = y0; y < y1; y++) {
    out.set(pixels.subarray((y * w + x0) * c, (y * w + x1) * c), (y - y0) * cw * c);
  }
  return { data: out, width: cw, height: y1 - y0 };
}

// Fraction of pixels that count as subject (alpha > CROP_THRESHOLD).
export function solidFraction(alpha) {
  let solid = 0;
  for (let i = 0; i < alpha.length; i++) if (alpha[i] > CROP_THRESHOLD) solid++;
  return alpha.length ? solid / alpha.length : 0;
}

// Alpha in [0, 1] from one channel of RGBA bytes (e.g. a grey mask PNG drawn to a canvas).
export function channelToFloat(data, n, offset = 0, stride = 4) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = data[i * stride + offset] / 255;
  return out;
}
