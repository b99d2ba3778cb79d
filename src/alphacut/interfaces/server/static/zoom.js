// Zoom and pan on a card's before/after view, to inspect edges: buttons, wheel, keyboard,
// and drag to pan while zoomed. Both images move together, so the slider still compares.

const MIN = 1;
const MAX = 8;

export function attachZoom(compare, buttons) {
  const view = { scale: 1, x: 0, y: 0 };
  const apply = () => {
    const limit = (v, size) => Math.max(-size * (view.scale - 1) / 2, Math.min(size * (view.scale - 1) / 2, v));
    view.x = limit(view.x, compare.clientWidth);
    view.y = limit(view.y, compare.clientHeight);
    compare.style.setProperty("--zoom", String(view.scale));
    compare.style.setProperty("--pan-x", `${view.x}px`);
    compare.style.setProperty("--pan-y", `${view.y}px`);
    compare.classList.toggle("zoomed", view.scale > 1);
    buttons.level.textContent = `${Math.round(view.scale * 100)}%`;
    buttons.out.disabled = view.scale <= MIN;
    buttons.in.disabled = view.scale >= MAX;
  };
  const zoomBy = (factor) => {
    const next = Math.min(MAX, Math.max(MIN, view.scale * factor));
    view.x *= next / view.scale;
    view.y *= next / view.scale;
    view.scale = next;
    if (next === 1) view.x = view.y = 0;
    apply();
  };
  buttons.in.addEventListener("click", () => zoomBy(2));
  buttons.out.addEventListener("click", () => zoomBy(0.5));
  buttons.level.addEventListener("click", () => { view.scale = 1; view.x = view.y = 0; apply(); });
  compare.addEventListener("wheel", (e) => {
    if (!e.ctrlKey && view.scale === 1) return; // plain scrolling passes by an unzoomed card
    e.preventDefault();
    zoomBy(e.deltaY < 0 ? 1.25 : 0.8);
  }, { passive: false });
  let drag = null;
  compare.addEventListener("pointerdown", (e) => {
    if (view.scale === 1 || e.target.closest("button")) return;
    e.preventDefault();
    drag = { x: e.clientX - view.x, y: e.clientY - view.y };
    compare.setPointerCapture(e.pointerId);
  });
  compare.addEventListener("pointermove", (e) => {
    if (!drag) return;
    view.x = e.clientX - drag.x;
    view.y = e.clientY - drag.y;
    apply();
  });
  const stop = () => { drag = null; };
  compare.addEventListener("pointerup", stop);
  compare.addEventListener("pointercancel", stop);
  compare.addEventListener("keydown", (e) => {
    const steps = { "+": () => zoomBy(2), "=": () => zoomBy(2), "-": () => zoomBy(0.5), "0": () => zoomBy(0) };
    if (steps[e.key]) { e.preventDefault(); steps[e.key](); }
  });
  apply();
  return view;
}
