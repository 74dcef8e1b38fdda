// The upload queue, kept in IndexedDB: photos added offline (or while a page reloads) wait here
// and go up by themselves when the connection returns.
import { uploadPhoto } from "./api.js";

const DB_NAME = "headshot";
const STORE = "uploads";
const listeners = new Set();
let pumping = false;

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

export async function pump() {
  if (pumping || !navigator.onLine) return;
  pumping = true;
  try {
    // Photos added while this runs are picked up by the next pass.
    for (let items = await pending(); items.length; items = await pending()) {
      items.sort((a, b) => a.addedAt - b.addedAt);
      for (const item of items) {
        if (!(await send(item))) return;  // offline again: keep the rest for later
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
    emit({ type: "done", item, reports });
  } catch (error) {
    if (error.status === 0) { emit({ type: "waiting", item }); return false; }
    await remove(item.id);  // refused by the server: retrying would not help
    emit({ type: "failed", item, error });
  }
  return true;
}

window.addEventListener("online", () => pump());
