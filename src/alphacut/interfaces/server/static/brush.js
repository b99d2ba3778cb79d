// Touch-up brush over a card's result: "keep" and "remove" strokes with a size, undo/redo
// (buttons, Ctrl-Z / Ctrl-Shift-Z), and "Apply", which runs the card again with the strokes
// as JSON polylines in the photo's full-resolution pixels (the server's `strokes` option).
// The strokes are hard constraints of the server's matting solve, not a paint-over.

const MAX_CANVAS = 2048; // the overlay's long side in canvas pixels (strokes stay in photo px)
const MAX_QUERY = 12000; // characters of JSON that fit in the request's query string
const COLOURS = { keep: "rgba(0, 200, 60, 0.55)", remove: "rgba(230, 30, 30, 0.55)" };

let styled = false;
function addStyle() { // a stylesheet of its own: the page's CSP allows no inline <style>
  if (styled) return;
  styled = true;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = "/static/brush.css";
  document.head.append(link);
}

function button(cls, text, label) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = `${cls} ghost small`;
  b.textContent = text;
  if (label) b.setAttribute("aria-label", label);
  return b;
}

// The brush of one card: `card` needs `el`, `made` ({width, height} once done) and `redo()`.
export class Brush {
  constructor(card) {
    addStyle();
    this.card = card;
    this.strokes = []; // [{mode, width, points: [[x, y], ...]}] in photo pixels
    this.undone = [];
    this.applied = null; // the JSON the last "Apply" sent
    this.mode = "remove";
    this.active = false;
    this.build();
  }

  build() {
    const compare = this.card.el.querySelector(".compare");
    this.canvas = document.createElement("canvas");
    this.canvas.className = "brush-layer";
    this.canvas.setAttribute("aria-label", "Touch-up strokes");
    compare.append(this.canvas);
    const tools = document.createElement("div");
    tools.className = "brush-tools";
    tools.setAttribute("role", "group");
    tools.setAttribute("aria-label", "Touch up");
    this.toggle = button("brush-toggle", "Touch up");
    this.toggle.setAttribute("aria-pressed", "false");
    const panel = document.createElement("span");
    panel.className = "brush-panel";
    panel.hidden = true;
    this.keep = button("brush-keep", "Keep", "Brush marks what to keep");
    this.remove = button("brush-remove", "Remove", "Brush marks what to remove");
    this.size = document.createElement("input");
    Object.assign(this.size, { type: "range", min: "2", max: "120", value: "24",
                               className: "brush-size" });
    this.size.setAttribute("aria-label", "Brush size");
    this.undoButton = button("brush-undo", "Undo", "Undo stroke (Ctrl-Z)");
    this.redoButton = button("brush-redo", "Redo", "Redo stroke (Ctrl-Shift-Z)");
    this.applyButton = button("brush-apply", "Apply", "Run again with the strokes");
    panel.append(this.keep, this.remove, this.size, this.undoButton, this.redoButton,
                 this.applyButton);
    tools.append(this.toggle, panel);
    this.panel = panel;
    this.tools = tools;
    compare.after(tools);
    this.wire();
    this.update();
  }

  wire() {
    this.toggle.addEventListener("click", () => this.setActive(!this.active));
    this.keep.addEventListener("click", () => { this.mode = "keep"; this.update(); });
    this.remove.addEventListener("click", () => { this.mode = "remove"; this.update(); });
    this.undoButton.addEventListener("click", () => this.undo());
    this.redoButton.addEventListener("click", () => this.redo());
    this.applyButton.addEventListener("click", () => this.apply());
    const c = this.canvas;
    c.addEventListener("pointerdown", (e) => this.start(e));
    c.addEventListener("pointermove", (e) => this.extend(e));
    c.addEventListener("pointerup", (e) => this.finish(e));
    c.addEventListener("pointercancel", (e) => this.finish(e));
    document.addEventListener("keydown", (e) => {
      if (!this.active || !(e.ctrlKey || e.metaKey)) return;
      const key = e.key.toLowerCase();
      if (key === "z" && !e.shiftKey) this.undo();
      else if ((key === "z" && e.shiftKey) || key === "y") this.redo();
      else return;
      e.preventDefault();
    });
  }

  size2d() {
    const made = this.card.made;
    return made ? [made.width, made.height] : null;
  }

  setActive(on) {
    if (on && !this.size2d()) return;
    this.active = on;
    this.card.el.classList.toggle("brush-on", on);
    if (on) {
      this.saved = this.card.el.style.getPropertyValue("--pos");
      this.card.el.style.setProperty("--pos", "0%"); // the whole result under the brush
      this.fit();
    } else if (this.saved !== undefined) {
      this.card.el.style.setProperty("--pos", this.saved);
    }
    this.update();
  }

  fit() {
    const [W, H] = this.size2d();
    const scale = Math.min(1, MAX_CANVAS / Math.max(W, H));
    const w = Math.max(1, Math.round(W * scale));
    const h = Math.max(1, Math.round(H * scale));
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    this.draw();
  }

  // Client coordinates -> photo pixels (object-fit: contain inside the transformed box).
  toPhoto(e) {
    const [W, H] = this.size2d();
    const rect = this.canvas.getBoundingClientRect();
    const s = Math.min(rect.width / W, rect.height / H);
    const x = (e.clientX - rect.left - (rect.width - W * s) / 2) / s;
    const y = (e.clientY - rect.top - (rect.height - H * s) / 2) / s;
    return { point: [round1(x), round1(y)], pxPerScreen: 1 / s };
  }

  start(e) {
    if (!this.active || !this.size2d() || e.button > 0) return;
    e.preventDefault();
    e.stopPropagation(); // no panning from zoom.js while drawing
    this.canvas.setPointerCapture(e.pointerId);
    const { point, pxPerScreen } = this.toPhoto(e);
    const width = Math.max(1, round1(Number(this.size.value) * pxPerScreen));
    this.current = { mode: this.mode, width, points: [point] };
    this.strokes.push(this.current);
    this.undone = [];
    this.draw();
  }

  extend(e) {
    if (!this.current) return;
    e.stopPropagation();
    const { point } = this.toPhoto(e);
    const last = this.current.points[this.current.points.length - 1];
    if (Math.hypot(point[0] - last[0], point[1] - last[1]) < Math.max(1, this.current.width / 4)) {
      return;
    }
    this.current.points.push(point);
    this.draw();
  }

  finish(e) {
    if (!this.current) return;
    e.stopPropagation();
    this.current = null;
    this.update();
  }

  undo() {
    if (!this.strokes.length) return;
    this.undone.push(this.strokes.pop());
    this.draw();
    this.update();
  }

  redo() {
    if (!this.undone.length) return;
    this.strokes.push(this.undone.pop());
    this.draw();
    this.update();
  }

  draw() {
    const size = this.size2d();
    if (!size) return;
    const ctx = this.canvas.getContext("2d");
    const k = this.canvas.width / size[0];
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    for (const s of this.strokes) {
      ctx.strokeStyle = ctx.fillStyle = COLOURS[s.mode];
      ctx.lineWidth = s.width * k;
      ctx.beginPath();
      if (s.points.length === 1) {
        ctx.arc(s.points[0][0] * k, s.points[0][1] * k, (s.width * k) / 2, 0, 2 * Math.PI);
        ctx.fill();
        continue;
      }
      s.points.forEach(([x, y], i) => (i ? ctx.lineTo(x * k, y * k) : ctx.moveTo(x * k, y * k)));
      ctx.stroke();
    }
  }

  update() {
    this.toggle.setAttribute("aria-pressed", String(this.active));
    this.toggle.disabled = !this.size2d() && !this.active;
    this.panel.hidden = !this.active;
    this.keep.setAttribute("aria-pressed", String(this.mode === "keep"));
    this.remove.setAttribute("aria-pressed", String(this.mode === "remove"));
    this.undoButton.disabled = !this.strokes.length;
    this.redoButton.disabled = !this.undone.length;
    this.applyButton.disabled = !this.strokes.length && !this.applied;
    this.tools.dataset.strokes = String(this.strokes.length);
  }

  // Run the card again with every stroke so far (or with none, after undoing them all).
  apply() {
    if (this.strokes.length && this.card.made && this.card.made.where === "device") {
      this.card.warn("Touch-up strokes are solved on the server (closed-form matting): choose " +
                     "Mask only or Server mode, then Apply. Nothing was sent.");
      return;
    }
    this.applied = this.strokes.length ? strokesJSON(this.strokes, 1) : null;
    this.setActive(false);
    this.card.redo();
  }

  // The `strokes` request option for a copy `scale` times the photo's size ({} when none).
  params(scale = 1) {
    if (!this.applied) return {};
    return { strokes: scale === 1 ? this.applied : strokesJSON(this.strokes, scale) };
  }

  // After the card's result changed size (a re-run), keep drawing over it.
  refresh() {
    if (this.size2d()) this.fit();
    this.update();
  }
}

// {"keep": [...], "remove": [...], "width": px}: each polyline {"points", "width"}; points
// thinned until the JSON fits in a query string.
export function strokesJSON(strokes, scale = 1) {
  for (let spacing = 0; ; spacing = Math.max(2, spacing * 2)) {
    const out = { keep: [], remove: [], width: 12 };
    for (const s of strokes) {
      const points = thin(s.points, spacing).map(([x, y]) => [round1(x * scale), round1(y * scale)]);
      out[s.mode].push({ points, width: Math.max(1, round1(s.width * scale)) });
    }
    const text = JSON.stringify(out);
    if (text.length <= MAX_QUERY || spacing > 4096) return text;
  }
}

function thin(points, spacing) {
  if (spacing <= 0 || points.length < 3) return points;
  const out = [points[0]];
  for (const p of points.slice(1, -1)) {
    const last = out[out.length - 1];
    if (Math.hypot(p[0] - last[0], p[1] - last[1]) >= spacing) out.push(p);
  }
  out.push(points[points.length - 1]);
  return out;
}

function round1(v) {
  return Math.round(v * 10) / 10;
}
