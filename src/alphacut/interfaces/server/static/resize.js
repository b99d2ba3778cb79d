// Resizing exactly as OpenCV's cv2.resize does it (the engine's resizes), on typed arrays.
// Part of the page's image maths: imaging.js re-exports everything here.

// OpenCV's saturate_cast<uchar>: round half to even, clamp to 0..255.
export function toU8(v) {
  if (!(v > 0)) return 0;
  if (v >= 255) return 255;
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 === 1 ? r - 1 : r;
}

// Source taps for bilinear resizing from -> to samples, pixel centres aligned, edges clamped.
export function linearTaps(from, to) {
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

// Source cells of area resizing from -> to (to <= from), flat: sample t uses index[k] with
// weight[k] for k in start[t] .. start[t + 1] - 1.
function areaTaps(from, to) {
  const scale = from / to;
  const start = new Int32Array(to + 1);
  const index = [];
  const weight = [];
  for (let t = 0; t < to; t++) {
    const f1 = t * scale;
    const f2 = f1 + scale;
    const s1 = Math.ceil(f1);
    const s2 = Math.floor(f2);
    const cell = Math.min(scale, from - f1);
    start[t] = index.length;
    if (s1 - f1 > 1e-3) { index.push(s1 - 1); weight.push((s1 - f1) / cell); }
    for (let s = s1; s < s2; s++) { index.push(s); weight.push(1 / cell); }
    if (f2 - s2 > 1e-3 && s2 < from) { index.push(s2); weight.push(Math.min(f2 - s2, 1) / cell); }
  }
  start[to] = index.length;
  return { start, index: Int32Array.from(index), weight: Float64Array.from(weight) };
}

// Area average (cv2 INTER_AREA, both sides shrinking): c channels interleaved -> Float32Array.
export function resizeArea(src, w, h, c, W, H) {
  const tx = areaTaps(w, W);
  const ty = areaTaps(h, H);
  const rows = new Float32Array(h * W * c);
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < W; x++) {
      const d = (y * W + x) * c;
      for (let k = tx.start[x]; k < tx.start[x + 1]; k++) {
        const o = (row + tx.index[k]) * c;
        const wt = tx.weight[k];
        for (let ch = 0; ch < c; ch++) rows[d + ch] += src[o + ch] * wt;
      }
    }
  }
  const out = new Float32Array(W * H * c);
  const n = W * c;
  for (let y = 0; y < H; y++) {
    const o = y * n;
    for (let k = ty.start[y]; k < ty.start[y + 1]; k++) {
      const r = ty.index[k] * n;
      const wt = ty.weight[k];
      for (let i = 0; i < n; i++) out[o + i] += rows[r + i] * wt;
    }
  }
  return out;
}

// Fixed-point taps of cv2's uint8 bilinear: weights in 1/2048; rows are clamped but their
// weights are not (as OpenCV does), which matters for the rounding. `area`: the taps cv2's
// INTER_AREA uses when one side grows (its linear kernel with area-style offsets).
function fixedTaps(from, to, clampWeights, area = false) {
  const i0 = new Int32Array(to);
  const i1 = new Int32Array(to);
  const w0 = new Int32Array(to);
  const w1 = new Int32Array(to);
  const scale = from / to;
  const inv = to / from;
  const areaScale = 1 / inv;
  for (let t = 0; t < to; t++) {
    let k, f;
    if (area) {
      k = Math.floor(t * areaScale);
      f = Math.fround((t + 1) - (k + 1) * inv);
      f = f <= 0 ? 0 : Math.fround(f - Math.floor(f));
    } else {
      const s = Math.fround((t + 0.5) * scale - 0.5);
      k = Math.floor(s);
      f = Math.fround(s - k);
    }
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
export function roundEven(v) {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 === 1 ? r - 1 : r;
}

// uint8 bilinear exactly as cv2 INTER_LINEAR on 8-bit images (its SIMD rounding included).
export function resizeLinearU8(src, w, h, c, W, H, area = false) {
  const tx = fixedTaps(w, W, true, area);
  const ty = fixedTaps(h, H, false, area);
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

// uint8 image resize as core.preprocess.resize_rgb: cv2 INTER_AREA when the pixel count
// shrinks (true area averaging when neither side grows; OpenCV's linear kernel with
// area-style taps when one side grows), INTER_LINEAR otherwise.
export function resizeU8(src, w, h, c, W, H) {
  const shrinks = W * H < w * h;
  if (!shrinks) return resizeLinearU8(src, w, h, c, W, H);
  if (W > w || H > h) return resizeLinearU8(src, w, h, c, W, H, true);
  const out = resizeArea(src, w, h, c, W, H);
  const u8 = new Uint8ClampedArray(out.length);
  for (let i = 0; i < out.length; i++) u8[i] = toU8(out[i]);
  return u8;
}
