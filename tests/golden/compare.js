// Checks the page's imaging.js against the engine's golden vectors; returns the worst error of
// each vector ({name: number}; NaN for a shape mismatch). Run in the browser by the page test
// (tests/server/test_server_page.py) and by hand with node (tests/golden/compare_node.mjs).
async (imaging, g) => {
  const worst = (got, want) => {
    if (!got || got.length !== want.length) return NaN;
    let e = 0;
    for (let i = 0; i < want.length; i++) e = Math.max(e, Math.abs(got[i] - want[i]));
    return e;
  };
  const { width: W, height: H } = g.image;
  const rgb = Uint8Array.from(g.image.rgb);
  const rgba = new Uint8ClampedArray(W * H * 4);
  for (let i = 0; i < W * H; i++) rgba.set([rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2], 255], 4 * i);
  const mask = Float32Array.from(g.mask.data);
  const out = {};
  g.tensor.forEach((t, k) => {
    const stats = imaging.tensorStats(imaging.toTensor(rgb, W, H, t.spec));
    out[`tensor${k}.shape`] = worst(stats.shape, t.stats.shape);
    for (const key of ["mean", "std", "min", "max"]) out[`tensor${k}.${key}`] = worst(stats[key], t.stats[key]);
    if (t.resized) {
      const [h, w] = t.spec.input_size;
      out[`tensor${k}.resized_u8`] = worst(imaging.resizeU8(rgb, W, H, 3, w, h), t.resized);
    }
  });
  out["soft_mask.none_f"] = worst(imaging.toSoftMask(Float32Array.from(g.soft_mask.none_raw), "none"), g.soft_mask.none);
  out["soft_mask.sigmoid_f"] = worst(imaging.toSoftMask(Float32Array.from(g.soft_mask.raw), "sigmoid"), g.soft_mask.sigmoid);
  out["gray_f"] = worst(imaging.grayFloat(rgba, W * H, 4), g.gray);
  const ra = g.resize_area_gray;
  out["resize_area_gray_f"] = worst(imaging.resizeArea(Float32Array.from(g.gray), W, H, 1, ra.width, ra.height), ra.data);
  const up = imaging.upsampleBilinear(mask, g.mask.width, g.mask.height, W, H);
  out["upsample_bilinear_f"] = worst(up, g.upsample_bilinear);
  out["upsample_guided_f"] = worst(imaging.upsampleGuided(mask, g.mask.width, g.mask.height, rgba, W, H), g.upsample_guided);
  out["alpha_to_u8_u8"] = worst(imaging.alphaToU8(Float32Array.from(g.alpha_to_u8.alpha)), g.alpha_to_u8.u8);
  const upGolden = Float32Array.from(g.upsample_bilinear);
  out["cutout_u8"] = worst(imaging.cutout(rgba, upGolden), g.cutout);
  const over = imaging.overColor(rgba, upGolden, g.over_color.color).filter((_, i) => i % 4 !== 3);
  out["over_color_u8"] = worst(over, g.over_color.rgb);
  out["subject_box_u8"] = worst(imaging.subjectBox(upGolden, W, H, g.subject_box.margin), g.subject_box.box);
  return out;
}
