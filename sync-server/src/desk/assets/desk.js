// 响应工作台: the little script the desk needs. Pages work without it; it adds live updates.
"use strict";
