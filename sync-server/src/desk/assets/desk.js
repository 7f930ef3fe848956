// 响应工作台: the little script the desk needs. Pages work without it; it adds live updates.
"use strict";

// ---- 考核与公示栏 (rankings and notice boards): the print button. ----
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
});
