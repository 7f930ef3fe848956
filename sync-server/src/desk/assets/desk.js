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
