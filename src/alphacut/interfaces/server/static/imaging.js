// All of the page's pixel maths: pure functions on typed arrays, no DOM.
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

export const CROP_THRESHOLD = 0.05; // alpha above this counts as subject (core.composite)
export const CROP_MARGIN = 16; // default crop_margin (config)
export const WORK_MAX_SIDE = 1024; // guided filter fit resolution (core.mask)
export const GUIDED_RADIUS = 4;
export const GUIDED_EPS = 1e-3;
export const EMPTY_FRACTION = 0.002; // under 0.2 % of pixels solid: "no subject found"

// ------------------------------------------------------------------ rounding and sizes

// OpenCV's saturate_cast<uchar>: round half to even, clamp to 0..255.
export function toU8(v) {
  if (!(v > 0)) return 0;
  if (v >= 255) return 255;
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 === 1 ? r - 1 : r;
}

// (width, height) scaled to fit maxSide on the long side, never enlarged (core.mask.working_size).
export function fitWithin(width, height, maxSide) {
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return [Math.max(1, roundEven(width * scale)), Math.max(1, roundEven(height * scale))];
}

// ------------------------------------------------------------------ resizing (cv2.resize)

// Source taps for bilinear resizing from -> to samples, pixel centres aligned, edges clamped.
function linearTaps(from, to) {
  const i0 = new Int32Array(to);
  const i1 = new Int32Array(to);
  const f = new Float32Array(to);
  const scale = from / to;
  for (let t = 0; t < to; t++) {
    let s = (t + 0.5) * scale - 0.5;
    let k = Math.floor(s);
    let frac = s - k;
    if (k < 0) { k = 0; frac = 0; }
    if (k >= from - 1) { k = from - 1; frac = 0; }
    i0[t] = k;
    i1[t] = Math.min(k + 1, from - 1);
    f[t] = frac;
  }
  return { i0, i1, f };
}

// Float bilinear (cv2 INTER_LINEAR on float32): c channels interleaved -> Float32Array.
export function resizeLinear(src, w, h, c, W, H) {
  const out = new Float32Array(W * H * c);
  const tx = linearTaps(w, W);
  const ty = linearTaps(h, H);
  for (let y = 0; y < H; y++) {
    const r0 = ty.i0[y] * w;
    const r1 = ty.i1[y] * w;
    const fy = ty.f[y];
    for (let x = 0; x < W; x++) {
      const fx = tx.f[x];
      const a = (r0 + tx.i0[x]) * c, b = (r0 + tx.i1[x]) * c;
      const d = (r1 + tx.i0[x]) * c, e = (r1 + tx.i1[x]) * c;
      const o = (y * W + x) * c;
      for (let k = 0; k < c; k++) {
        const top = src[a + k] + (src[b + k] - src[a + k]) * fx;
        const bottom = src[d + k] + (src[e + k] - src[d + k]) * fx;
        out[o + k] = top + (bottom - top) * fy;
      }
    }
  }
  return out;
}

// Source cells of area resizing from -> to (to <= from): [[index, weight], ...] per sample.
function areaTaps(from, to) {
  const scale = from / to;
  const taps = [];
  for (let t = 0; t < to; t++) {
    const f1 = t * scale;
    const f2 = f1 + scale;
    const s1 = Math.ceil(f1);
    const s2 = Math.floor(f2);
    const cell = Math.min(scale, from - f1);
    const row = [];
    if (s1 - f1 > 1e-3) row.push([s1 - 1, (s1 - f1) / cell]);
    for (let s = s1; s < s2; s++) row.push([s, 1 / cell]);
    if (f2 - s2 > 1e-3 && s2 < from) row.push([s2, Math.min(f2 - s2, 1) / cell]);
    taps.push(row);
  }
  return taps;
}

// Area average (cv2 INTER_AREA, both sides shrinking): c channels interleaved -> Float32Array.
export function resizeArea(src, w, h, c, W, H) {
  const tx = areaTaps(w, W);
  const ty = areaTaps(h, H);
  const rows = new Float32Array(h * W * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < W; x++) {
      for (let k = 0; k < c; k++) {
        let sum = 0;
        for (const [s, wt] of tx[x]) sum += src[(y * w + s) * c + k] * wt;
        rows[(y * W + x) * c + k] = sum;
      }
    }
  }
  const out = new Float32Array(W * H * c);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let k = 0; k < c; k++) {
        let sum = 0;
        for (const [s, wt] of ty[y]) sum += rows[(s * W + x) * c + k] * wt;
        out[(y * W + x) * c + k] = sum;
      }
    }
  }
  return out;
}

// Fixed-point taps of cv2's uint8 bilinear: weights in 1/2048; rows are clamped but their
// weights are not (as OpenCV does), which matters for the rounding.
function fixedTaps(from, to, clampWeights) {
  const i0 = new Int32Array(to);
  const i1 = new Int32Array(to);
  const w0 = new Int32Array(to);
  const w1 = new Int32Array(to);
  const scale = from / to;
  for (let t = 0; t < to; t++) {
    const s = Math.fround((t + 0.5) * scale - 0.5);
    let k = Math.floor(s);
    let f = Math.fround(s - k);
    if (clampWeights && k < 0) { k = 0; f = 0; }
    if (clampWeights && k >= from - 1) { k = from - 1; f = 0; }
    i0[t] = Math.min(Math.max(k, 0), from - 1);
    i1[t] = Math.min(Math.max(k + 1, 0), from - 1);
    w0[t] = roundEven(Math.fround(1 - f) * 2048);
    w1[t] = roundEven(f * 2048);
  }
  return { i0, i1, w0, w1 };
}

// Round half to even, as Python's round() and OpenCV's cvRound.
function roundEven(v) {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 === 1 ? r - 1 : r;
}

// uint8 bilinear exactly as cv2 INTER_LINEAR on 8-bit images (its SIMD rounding included).
export function resizeLinearU8(src, w, h, c, W, H) {
  const tx = fixedTaps(w, W, true);
  const ty = fixedTaps(h, H, false);
  const rows = new Int32Array(h * W * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < W; x++) {
      const a = (y * w + tx.i0[x]) * c, b = (y * w + tx.i1[x]) * c, o = (y * W + x) * c;
      for (let k = 0; k < c; k++) rows[o + k] = src[a + k] * tx.w0[x] + src[b + k] * tx.w1[x];
    }
  }
  const out = new Uint8ClampedArray(W * H * c);
  const n = W * c;
  for (let y = 0; y < H; y++) {
    const r0 = ty.i0[y] * n, r1 = ty.i1[y] * n, b0 = ty.w0[y], b1 = ty.w1[y], o = y * n;
    for (let i = 0; i < n; i++) {
      const v = ((((rows[r0 + i] >> 4) * b0) >> 16) + (((rows[r1 + i] >> 4) * b1) >> 16) + 2) >> 2;
      out[o + i] = v;
    }
  }
  return out;
}

// uint8 image resize as core.preprocess.resize_rgb: area when the pixel count shrinks.
// (When one side grows while the pixel count shrinks, OpenCV's INTER_AREA has a third
// formula; the page never resizes that way and uses bilinear there.)
export function resizeU8(src, w, h, c, W, H) {
  const area = W * H < w * h && W <= w && H <= h;
  if (!area) return resizeLinearU8(src, w, h, c, W, H);
  const out = resizeArea(src, w, h, c, W, H);
  const u8 = new Uint8ClampedArray(out.length);
  for (let i = 0; i < out.length; i++) u8[i] = toU8(out[i]);
  return u8;
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
  let [a, b] = guidedCoefficients(guide, source, ww, wh, radius, eps);
  if (!same) {
    a = resizeLinear(a, ww, wh, 1, W, H);
    b = resizeLinear(b, ww, wh, 1, W, H);
  }
  for (let i = 0; i < a.length; i++) a[i] = Math.min(1, Math.max(0, a[i] * gray[i] + b[i]));
  return a;
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
