// Box prompt on a card: drag a box over the photo to keep only the subject inside it, and the
// card runs again with `roi` (the box in percent of the photo, remove.bg's meaning), so zoom
// and pan do not change what the box covers. "Clear box" runs the whole photo again.

const MIN_DRAG = 6; // CSS px: a shorter drag is a click, not a box

// Adds the "Box" and "Clear box" buttons and the drawing layer to `card` (a cards.js Card).
export function attachRoi(card) {
  card.roi = null; // {x1, y1, x2, y2} as fractions of the photo, or null
  const compare = card.q(".compare");
  const layer = element("div", "roi-layer");
  const outline = element("div", "roi-box");
  layer.append(outline);
  compare.append(layer);
  const toggle = button("roi-toggle", "Box", "Drag a box around the subject to keep only it");
  toggle.setAttribute("aria-pressed", "false");
  const clear = button("roi-clear", "Clear box", "Run again on the whole photo");
  clear.hidden = true;
  card.q(".redo").before(toggle, clear);

  const drawing = (on) => {
    compare.classList.toggle("roi-drawing", on);
    toggle.setAttribute("aria-pressed", String(on));
    if (!on) outline.hidden = true;
  };
  toggle.addEventListener("click", () => drawing(!compare.classList.contains("roi-drawing")));
  clear.addEventListener("click", () => {
    card.roi = null;
    clear.hidden = true;
    card.el.removeAttribute("data-roi");
    card.redo();
  });
  compare.addEventListener("keydown", (e) => { if (e.key === "Escape") drawing(false); });

  let start = null;
  layer.addEventListener("pointerdown", (e) => {
    e.preventDefault();
    e.stopPropagation(); // not a pan
    start = { x: e.clientX, y: e.clientY };
    layer.setPointerCapture(e.pointerId);
    place(outline, layer, start, start);
    outline.hidden = false;
  });
  layer.addEventListener("pointermove", (e) => {
    if (start) place(outline, layer, start, { x: e.clientX, y: e.clientY });
  });
  layer.addEventListener("pointerup", (e) => {
    if (!start) return;
    const end = { x: e.clientX, y: e.clientY };
    const box = Math.hypot(end.x - start.x, end.y - start.y) >= MIN_DRAG
      ? toPhoto(card.q(".before"), start, end) : null;
    start = null;
    if (!box) { outline.hidden = true; return; }
    card.roi = box;
    card.el.dataset.roi = roiParam(card).roi;
    clear.hidden = false;
    drawing(false);
    card.redo();
  });
  layer.addEventListener("pointercancel", () => { start = null; drawing(false); });
}

// The query parameter for the card's box: {roi: "x1%,y1%,x2%,y2%"}, or {} without one.
export function roiParam(card) {
  const b = card.roi;
  if (!b) return {};
  const pct = (v) => `${(v * 100).toFixed(3).replace(/\.?0+$/, "")}%`;
  return { roi: [b.x1, b.y1, b.x2, b.y2].map(pct).join(",") };
}

// Zero `alpha` (Float32Array, W*H) outside the card's box: the on-device path upsamples the
// server's small mask, which would let the box's edge bleed by a pixel.
export function clearOutsideRoi(card, alpha, W, H) {
  const b = card.roi;
  if (!b) return;
  const x1 = Math.round(b.x1 * W);
  const x2 = Math.round(b.x2 * W);
  const y1 = Math.round(b.y1 * H);
  const y2 = Math.round(b.y2 * H);
  for (let y = 0; y < H; y++) {
    const row = y * W;
    if (y < y1 || y >= y2) { alpha.fill(0, row, row + W); continue; }
    alpha.fill(0, row, row + x1);
    alpha.fill(0, row + x2, row + W);
  }
}

// The drag from `a` to `b` (client px) as fractions of the photo shown in `img` (object-fit:
// contain, maybe zoomed and panned), clamped to the photo; null if it misses the photo.
function toPhoto(img, a, b) {
  const r = contentRect(img);
  if (!r) return null;
  const fx = (x) => Math.min(1, Math.max(0, (x - r.left) / r.width));
  const fy = (y) => Math.min(1, Math.max(0, (y - r.top) / r.height));
  const box = { x1: fx(Math.min(a.x, b.x)), x2: fx(Math.max(a.x, b.x)),
                y1: fy(Math.min(a.y, b.y)), y2: fy(Math.max(a.y, b.y)) };
  const tiny = (box.x2 - box.x1) * r.width < 2 || (box.y2 - box.y1) * r.height < 2;
  return tiny ? null : box;
}

// Where the photo's pixels are on screen: the element's box less object-fit's letterbox.
function contentRect(img) {
  const e = img.getBoundingClientRect();
  if (!img.naturalWidth || !img.naturalHeight || !e.width || !e.height) return null;
  const scale = Math.min(e.width / img.naturalWidth, e.height / img.naturalHeight);
  const width = img.naturalWidth * scale;
  const height = img.naturalHeight * scale;
  return { left: e.left + (e.width - width) / 2, top: e.top + (e.height - height) / 2,
           width, height };
}

function place(outline, layer, a, b) {
  const r = layer.getBoundingClientRect();
  outline.style.left = `${Math.min(a.x, b.x) - r.left}px`;
  outline.style.top = `${Math.min(a.y, b.y) - r.top}px`;
  outline.style.width = `${Math.abs(b.x - a.x)}px`;
  outline.style.height = `${Math.abs(b.y - a.y)}px`;
}

function element(tag, cls) {
  const el = document.createElement(tag);
  el.className = cls;
  if (cls === "roi-box") el.hidden = true;
  return el;
}

function button(cls, text, title) {
  const b = element("button", `${cls} ghost small`);
  b.type = "button";
  b.textContent = text;
  b.title = title;
  return b;
}
