// A tiny element builder and the app's shared bits of UI.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function render(...nodes) {
  const view = document.getElementById("view");
  view.replaceChildren(...nodes);
  return view;
}

let toastTimer = 0;
// A short message at the top of the screen (never over the tab bar or a field being read);
// `extra` may add a link, such as a deletion receipt.
export function toast(message, extra) {
  const box = document.getElementById("toast");
  box.replaceChildren(h("span", {}, message), extra ? " " : null, extra || null);
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, extra ? 10000 : 5000);
}

// The status bar sits above the tab bar, so progress and its results stay on screen wherever
// the person has scrolled. `owner` lets a view clear only its own message.
export function showStatus(owner, ...nodes) {
  const bar = document.getElementById("status");
  bar.dataset.owner = owner;
  bar.replaceChildren(...nodes);
  bar.hidden = nodes.length === 0;
  document.body.classList.toggle("with-status", !bar.hidden);
}

export function clearStatus(owner) {
  const bar = document.getElementById("status");
  if (owner && bar.dataset.owner !== owner) return;
  showStatus("");
}

// A deletion answered with its receipt: say so, with a link to check the provider's part.
export function deletedToast(what, receiptUrl) {
  toast(what + " deleted.", receiptUrl
    ? h("a", { class: "tap", href: receiptUrl, target: "_blank", rel: "noopener" }, "Receipt")
    : null);
}

export function errorBox(error) {
  return h("p", { class: "error", role: "alert" }, error.message || String(error));
}

export function empty(title, text) {
  return h("div", { class: "empty" }, h("strong", {}, title), text);
}

export function badge(kind, text) {
  return h("span", { class: "badge " + kind }, text);
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 60) return "about " + Math.max(1, Math.round(seconds)) + " s left";
  return "about " + Math.round(seconds / 60) + " min left";
}

// Busy buttons say so and cannot be pressed twice.
export async function busy(button, label, work) {
  const before = button.textContent;
  button.disabled = true;
  button.textContent = label;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.textContent = before;
  }
}
