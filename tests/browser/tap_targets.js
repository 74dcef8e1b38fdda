// Every visible control a finger must hit that is smaller than 44 x 44 CSS px. Checkboxes and
// radios are hit through their label, so the label is measured.
() => {
  const hits = [];
  const controls = document.querySelectorAll(
    "a[href], button, summary, select, label.check, label.button, .choice label, " +
    "input:not([type=hidden]):not([type=checkbox]):not([type=radio])");
  for (const el of controls) {
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || getComputedStyle(el).visibility === "hidden") continue;
    if (el.classList.contains("visually-hidden") || box.right < 0 || box.left > innerWidth) continue;
    if (box.width < 43.5 || box.height < 43.5) {
      const name = (el.textContent || el.getAttribute("aria-label") || "").trim().slice(0, 40);
      hits.push(el.tagName.toLowerCase() + ' "' + name + '" ' + Math.round(box.width) + "x" + Math.round(box.height));
    }
  }
  return hits;
}
