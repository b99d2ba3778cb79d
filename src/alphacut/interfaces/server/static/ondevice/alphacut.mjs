// alphacut in any page: `removeBackground(image: Blob, options?) -> Promise<Blob>`, the
// full-size PNG cut-out, made on this device (the model runs in a worker; nothing is sent).
//
// options: model (default: the site's default, else "u2netp"), onProgress(fraction, text),
// acceptLicense (true to allow AGPL/GPL weights, which this site then distributes to you),
// type ("image/png" default, or "image/webp").

import * as imaging from "../imaging.js";
import { DeviceModel, webStatus } from "./client.js";

let shared = null;
let defaults = null;

async function defaultModel() {
  if (!defaults) defaults = webStatus().then((s) => (s && s.default_model) || "u2netp");
  return defaults;
}

function pixels(bitmap) {
  const { width, height } = bitmap;
  const canvas = typeof OffscreenCanvas !== "undefined" ? new OffscreenCanvas(width, height)
    : Object.assign(document.createElement("canvas"), { width, height });
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  return { canvas, ctx, rgba: ctx.getImageData(0, 0, width, height).data };
}

function toBlob(canvas, type) {
  if (canvas.convertToBlob) return canvas.convertToBlob({ type });
  return new Promise((resolve, reject) => canvas.toBlob(
    (b) => (b ? resolve(b) : reject(new Error(`cannot encode ${type}`))), type));
}

export async function removeBackground(image, options = {}) {
  const progress = options.onProgress || (() => {});
  const name = options.model || await defaultModel();
  let bitmap;
  try {
    bitmap = await createImageBitmap(image, { imageOrientation: "from-image" });
  } catch (err) {
    throw new Error("this browser cannot open the image");
  }
  shared = shared || new DeviceModel();
  progress(0.02, `loading model ${name}`);
  await shared.load(name, (done, total, cached) => progress(
    0.02 + (total ? 0.5 * done / total : 0),
    cached ? `model ${name} from the browser's cache` : `downloading model ${name}`),
  (spec) => Boolean(options.acceptLicense) || !spec.copyleft);
  progress(0.55, "finding the subject");
  const W = bitmap.width, H = bitmap.height;
  const { canvas, ctx, rgba } = pixels(bitmap);
  bitmap.close();
  const { alpha } = await shared.alpha(rgba, W, H);
  progress(0.85, "encoding");
  ctx.putImageData(new ImageData(imaging.cutout(rgba, alpha), W, H), 0, 0);
  const blob = await toBlob(canvas, options.type || "image/png");
  progress(1, "done");
  return blob;
}
