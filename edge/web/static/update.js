// The update page: the chosen bundle's name under the "choose a file" button (the browser's own
// file field, hidden under it, speaks the browser's language, not the page's).
"use strict";
(() => {
  const input = document.getElementById("bundle");
  const chosen = document.getElementById("chosen");
  input.addEventListener("change", () => {
    chosen.textContent = input.files.length ? input.files[0].name : chosen.dataset.none;
  });
})();
