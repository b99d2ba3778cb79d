// The browser's side of pixels: decoding files, reading and writing canvases, encoding.
// No maths here (that is imaging.js): only moving bytes between the DOM and typed arrays.

// An ImageBitmap of `blob` (EXIF orientation applied), or null if the browser cannot decode it.
export async function decode(blob) {
  try {
    return await createImageBitmap(blob, { imageOrientation: "from-image" });
  } catch (err) {
    return null;
  }
}

function context(canvas) {
  return canvas.getContext("2d", { willReadFrequently: true });
}

export function newCanvas(width, height) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

// RGBA bytes (Uint8ClampedArray, straight alpha) of `image` drawn at width x height.
export function rgbaOf(image, width = image.width, height = image.height) {
  const canvas = newCanvas(width, height);
  const ctx = context(canvas);
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(image, 0, 0, width, height);
  return ctx.getImageData(0, 0, width, height).data;
}

// `image` scaled to cover width x height and centred (as core.composite.cover), as RGBA.
export function coverRGBA(image, width, height) {
  const canvas = newCanvas(width, height);
  const ctx = context(canvas);
  const scale = Math.max(width / image.width, height / image.height);
  const w = image.width * scale;
  const h = image.height * scale;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(image, (width - w) / 2, (height - h) / 2, w, h);
  return ctx.getImageData(0, 0, width, height).data;
}

// A canvas holding RGBA bytes `data` of width x height.
export function canvasOf(data, width, height) {
  const canvas = newCanvas(width, height);
  context(canvas).putImageData(new ImageData(data, width, height), 0, 0);
  return canvas;
}

export function encode(canvas, mime, quality) {
  return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob && blob.type === mime
    ? resolve(blob) : reject(new Error(`this browser cannot write ${mime}`))), mime, quality));
}

// Can this browser encode `mime` from a canvas? (toDataURL falls back to PNG when not.)
export function canEncode(mime) {
  return newCanvas(1, 1).toDataURL(mime).startsWith(`data:${mime}`);
}
