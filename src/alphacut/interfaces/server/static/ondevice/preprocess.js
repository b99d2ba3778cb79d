// The engine's preprocessing for the in-page model (core.preprocess.to_tensor), for any of
// the spec's resize policies: RGBA pixels -> the model's input tensor. The maths itself is
// imaging.js's (checked against the engine's golden vectors); this adds the sizes.

import { roundEven, toTensor } from "../imaging.js";

// (h, w) the model runs at for an image of height x width (core.preprocess.model_input_size).
export function modelInputSize(spec, height, width) {
  if (spec.resize === "fixed" || !spec.resize) return spec.input_size;
  const side = spec.input_size[0];
  const scale = spec.resize === "max_side"
    ? Math.min(1, side / Math.max(height, width))
    : side / Math.min(height, width);
  const m = spec.multiple || 32;
  const snap = (v) => Math.max(m, roundEven(v / m) * m);
  return [snap(height * scale), snap(width * scale)];
}

// RGB bytes (Uint8Array (H*W*3)) of RGBA bytes.
export function rgbOf(rgba, n) {
  const rgb = new Uint8Array(n * 3);
  for (let i = 0, j = 0, k = 0; i < n; i++, j += 4, k += 3) {
    rgb[k] = rgba[j];
    rgb[k + 1] = rgba[j + 1];
    rgb[k + 2] = rgba[j + 2];
  }
  return rgb;
}

// RGBA (W, H) -> {data: Float32Array (1, 3, h, w), shape: [1, 3, h, w]} per `spec`.
export function tensorFor(rgba, W, H, spec) {
  const [h, w] = modelInputSize(spec, H, W);
  return toTensor(rgbOf(rgba, W * H), W, H, { ...spec, input_size: [h, w] });
}
