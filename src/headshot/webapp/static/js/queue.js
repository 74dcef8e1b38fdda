// The upload queue, kept in IndexedDB: photos wait here until the server has given its verdict.
// No connection, a busy server (429) or a failing one (5xx) keep a photo queued and it is tried
// again with backoff (honouring Retry-After), also while the page stays open and online; only a
// 4xx verdict ends a queued photo.
import { uploadPhoto } from "./api.js";

const DB_NAME = "headshot";
const STORE = "uploads";
const MAX_BACKOFF_S = 60;
const listeners = new Set();
let pumping = false;
let timer = 0;
let failures = 0;  // transient failures in a row, for the backoff

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "id" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run(mode, action) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const result = action(tx.objectStore(STORE));
    tx.oncomplete = () => { db.close(); resolve(result && result.result); };
    tx.onerror = () => { db.close(); reject(tx.error); };
  });
}

export const pending = () => run("readonly", (store) => store.getAll());
const remove = (id) => run("readwrite", (store) => store.delete(id));

export async function enqueue(sessionId, blob, name) {
  const item = { id: crypto.randomUUID(), sessionId, name, blob, addedAt: Date.now() };
  await run("readwrite", (store) => store.put(item));
  emit({ type: "queued", item });
  pump();
  return item;
}

export function subscribe(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function emit(event) {
  for (const listener of listeners) listener(event);
}

// Exponential backoff with jitter, unless the server said when to come back.
function delayS(error) {
  failures += 1;
  if (error.retryAfterS !== null && error.retryAfterS !== undefined) return error.retryAfterS;
  const base = Math.min(MAX_BACKOFF_S, 2 ** (failures - 1));
  return base * (0.8 + Math.random() * 0.4);
}

function later(seconds) {
  clearTimeout(timer);
  timer = setTimeout(pump, seconds * 1000);
}

// The person pressed Retry: try now, whatever the backoff said.
export function retryNow() {
  clearTimeout(timer);
  failures = 0;
  return pump();
}

export async function pump() {
  if (pumping || !navigator.onLine) return;
  pumping = true;
  try {
    // Photos added while this runs are picked up by the next pass.
    for (let items = await pending(); items.length; items = await pending()) {
      items.sort((a, b) => a.addedAt - b.addedAt);
      for (const item of items) {
        if (!(await send(item))) return;  // kept for later: the rest waits behind it
      }
    }
  } finally {
    pumping = false;
  }
}

async function send(item) {
  emit({ type: "start", item });
  try {
    const reports = await uploadPhoto(item.sessionId, item.blob, item.name,
      (fraction) => emit({ type: "progress", item, fraction }));
    await remove(item.id);
    failures = 0;
    emit({ type: "done", item, reports });
    return true;
  } catch (error) {
    if (error.status === 401) {
      emit({ type: "waiting", item, reason: "signed-out" });  // sent again once signed in
      return false;
    }
    if (error.transient) {
      const offline = error.status === 0 && !navigator.onLine;
      const seconds = offline ? null : delayS(error);
      if (seconds !== null) later(seconds);
      emit({ type: "waiting", item, reason: offline ? "offline" : "busy", retryInS: seconds });
      return false;
    }
    await remove(item.id);  // the server's verdict: sending it again would not change it
    emit({ type: "failed", item, error });
    return true;
  }
}

window.addEventListener("online", () => { failures = 0; pump(); });
window.addEventListener("offline", () => emit({ type: "offline" }));
