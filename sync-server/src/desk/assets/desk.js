// 响应工作台: the little script the desk needs. Pages work without it; it adds live updates.
"use strict";

// ---- Live updates (desk/live.rs): a long poll on the wake-up channel; when something the
// person may read changes, the page's main region is fetched again and swapped in, unless
// they are typing in a form (then a button offers the refresh).
(function () {
  if (document.body.dataset.live === "off" || !document.getElementById("live-status")) {
    return;
  }
  var status = document.getElementById("live-status");
  var cursor = null;
  var failures = 0;

  function typing() {
    var a = document.activeElement;
    return a && (a.tagName === "INPUT" || a.tagName === "TEXTAREA" || a.tagName === "SELECT");
  }

  function stamp() {
    var d = new Date();
    return d.toTimeString().slice(0, 8);
  }

  function refresh() {
    return fetch(location.href, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("main");
        var main = document.getElementById("main");
        if (fresh && main) {
          main.innerHTML = fresh.innerHTML;
          status.textContent = "已更新 " + stamp();
          document.dispatchEvent(new CustomEvent("desk:refreshed"));
        }
      });
  }

  function offer() {
    status.textContent = "";
    var b = document.createElement("button");
    b.type = "button";
    b.className = "secondary";
    b.textContent = "有新变化，点击刷新";
    b.addEventListener("click", function () { refresh(); });
    status.appendChild(b);
  }

  function poll() {
    var url = "/desk/live" + (cursor === null ? "" : "?cursor=" + cursor);
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.redirected) {
          // The session ended: the sign-in page brings the person back here.
          location.href = r.url;
          return Promise.reject("signed out");
        }
        return r.ok ? r.json() : Promise.reject(r.status);
      })
      .then(function (live) {
        failures = 0;
        var first = cursor === null;
        cursor = live.cursor;
        if (!first && live.changed) {
          return typing() ? offer() : refresh();
        }
      })
      .then(function () { setTimeout(poll, 0); })
      .catch(function () {
        failures += 1;
        status.textContent = "连接中断，正在重试…";
        setTimeout(poll, Math.min(30000, 1000 * Math.pow(2, failures)));
      });
  }
  poll();
})();

// ---- 考核与公示栏 (rankings and notice boards): the print button (delegated, so it keeps
// working after a live update swaps the main region). ----
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("button[data-print]")) {
    window.print();
  }
});

// ---- 地图 (map): pan and zoom the map by its viewBox; pins stay links (Tab, Enter) ----
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
