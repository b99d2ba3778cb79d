// Talking to the server: JSON look-ups, image POSTs with upload progress, retries only while
// the server is busy, and errors turned into messages for the person using the page.

const MAX_RETRIES = 5;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class ApiError extends Error {
  constructor(status, code, detail, retryAfter = null) {
    super(detail || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }

  // Only a full queue is worth waiting for; any other error will not change by retrying.
  get busy() {
    return this.status === 503 && (this.code === "busy" || !this.code);
  }
}

// GET a JSON document; null when the server does not have it (an older server).
export async function getJSON(url) {
  const res = await fetch(url, { headers: { Accept: "application/json" } });
  if (res.status === 404) return null;
  if (!res.ok) throw new ApiError(res.status, "", `HTTP ${res.status}`);
  return res.json();
}

function send(url, body, contentType, onUpload) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    xhr.responseType = "blob";
    xhr.setRequestHeader("Content-Type", contentType);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onUpload(e.loaded / e.total); };
    xhr.onload = () => resolve(xhr);
    xhr.onerror = () => reject(new ApiError(0, "network", "Network error: is the server running?"));
    xhr.send(body);
  });
}

async function errorOf(xhr) {
  let code = "";
  let detail = "";
  try {
    const body = JSON.parse(await xhr.response.text());
    code = body.error || "";
    detail = body.detail || "";
  } catch (err) {
    detail = `HTTP ${xhr.status}`;
  }
  const retry = Number(xhr.getResponseHeader("Retry-After"));
  return new ApiError(xhr.status, code, detail, Number.isFinite(retry) && retry > 0 ? retry : null);
}

// POST an image; `progress(fraction, text)` hears about uploads and waits. Returns a Blob.
export async function postImage(url, body, contentType, progress) {
  for (let attempt = 0; ; attempt++) {
    progress(0, "Uploading…");
    const xhr = await send(url, body, contentType, (f) =>
      progress(f, f < 1 ? `Uploading… ${Math.round(f * 100)}%` : "Finding the subject…"));
    if (xhr.status === 200) return xhr.response;
    const err = await errorOf(xhr);
    if (!err.busy || attempt >= MAX_RETRIES) throw err;
    const wait = Math.max(1, err.retryAfter || 1);
    progress(0, `Server busy, retrying in ${wait} s…`);
    await sleep(wait * 1000);
  }
}

const UNAVAILABLE = "This server cannot run that model or quality (a model it needs is not " +
  "installed here). Choose another model or quality.";

// What to tell the person: short, no server paths, hashes or stack traces.
export function userMessage(err) {
  if (!(err instanceof ApiError)) return err && err.message ? err.message : String(err);
  if (unavailable(err)) return UNAVAILABLE;
  const byCode = {
    busy: "The server is busy. Try again in a minute.",
    image_too_large: "This image is too large for the server.",
    unsupported_image: "The server cannot read this file type.",
    invalid_image: "This file is damaged or is not an image.",
    timeout: "The server took too long with this image.",
    network: err.message,
  };
  if (byCode[err.code]) return byCode[err.code];
  if (err.status === 413) return byCode.image_too_large;
  if (err.status === 415) return byCode.unsupported_image;
  if (err.status === 504) return byCode.timeout;
  if (err.status === 422) return `Setting refused: ${clean(err.detail)}`;
  return `The server could not process this image (${err.status || "no answer"}).`;
}

// Drop anything that looks like a file path or a hash from a server detail.
function clean(text) {
  return String(text || "").replace(/(\/[\w.-]+){2,}/g, "…").replace(/\b[0-9a-f]{32,}\b/g, "…");
}

// The server cannot run the chosen model/quality here: weights missing (503 weights_error or
// offline), or a model the preset needs is not served (422 model_not_served).
export function unavailable(err) {
  if (!(err instanceof ApiError)) return false;
  return ["weights_error", "weights_missing", "offline", "model_unavailable", "model_not_served"]
    .includes(err.code);
}
