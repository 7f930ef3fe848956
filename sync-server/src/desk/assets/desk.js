// 响应工作台: the little script the desk needs. Pages work without it; it adds live updates.
"use strict";

// ---- 地图 (map part): pan and zoom the map by its viewBox; pins stay links (Tab, Enter) ----
(function () {
  const svg = document.getElementById("desk-map");
  if (!svg) return;
  const W = parseFloat(svg.dataset.w), H = parseFloat(svg.dataset.h);
  let vb = { x: 0, y: 0, w: W, h: H };
  const pins = svg.querySelectorAll(".pins circle");
  const labels = svg.querySelector(".labels");
  const apply = () => {
    vb.x = Math.min(Math.max(vb.x, -vb.w / 2), W - vb.w / 2);
    vb.y = Math.min(Math.max(vb.y, -vb.h / 2), H - vb.h / 2);
    svg.setAttribute("viewBox", `${vb.x} ${vb.y} ${vb.w} ${vb.h}`);
    const k = vb.w / W;
    pins.forEach((c) => c.setAttribute("r", String(Math.max(6 * k, 1.5))));
    if (labels) labels.style.fontSize = `${12 * k}px`;
  };
  const zoom = (f, cx, cy) => {
    const w = Math.min(W, Math.max(W / 32, vb.w * f));
    const k = w / vb.w;
    vb = { x: cx - (cx - vb.x) * k, y: cy - (cy - vb.y) * k, w: w, h: vb.h * k };
    apply();
  };
  const at = (e) => {
    const r = svg.getBoundingClientRect();
    return { x: vb.x + ((e.clientX - r.left) / r.width) * vb.w, y: vb.y + ((e.clientY - r.top) / r.height) * vb.h };
  };
  svg.addEventListener("wheel", (e) => {
    e.preventDefault();
    const p = at(e);
    zoom(e.deltaY < 0 ? 0.8 : 1.25, p.x, p.y);
  }, { passive: false });
  let drag = null, moved = false;
  svg.addEventListener("pointerdown", (e) => {
    drag = { x: e.clientX, y: e.clientY, vx: vb.x, vy: vb.y, id: e.pointerId };
    moved = false;
  });
  svg.addEventListener("pointermove", (e) => {
    if (!drag) return;
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (!moved && Math.hypot(dx, dy) < 5) return;
    if (!moved) { moved = true; svg.setPointerCapture(drag.id); }
    const r = svg.getBoundingClientRect();
    vb.x = drag.vx - (dx / r.width) * vb.w;
    vb.y = drag.vy - (dy / r.height) * vb.h;
    apply();
  });
  const end = () => { drag = null; };
  svg.addEventListener("pointerup", end);
  svg.addEventListener("pointercancel", end);
  // A drag that ends on a pin does not open it.
  svg.addEventListener("click", (e) => { if (moved) { e.preventDefault(); moved = false; } }, true);
  document.querySelectorAll("[data-map-zoom]").forEach((b) => b.addEventListener("click", () => {
    const how = b.getAttribute("data-map-zoom");
    if (how === "reset") { vb = { x: 0, y: 0, w: W, h: H }; apply(); return; }
    zoom(how === "in" ? 0.5 : 2, vb.x + vb.w / 2, vb.y + vb.h / 2);
  }));
  // A pin reached with Tab while zoomed in is brought into view.
  svg.addEventListener("focusin", (e) => {
    const c = e.target.querySelector && e.target.querySelector("circle");
    if (!c || vb.w === W) return;
    const x = parseFloat(c.getAttribute("cx")), y = parseFloat(c.getAttribute("cy"));
    if (x < vb.x || x > vb.x + vb.w || y < vb.y || y > vb.y + vb.h) {
      vb.x = x - vb.w / 2; vb.y = y - vb.h / 2; apply();
    }
  });
})();
