// One batch: add photos (camera or gallery), see each photo's result as it is validated, the
// readiness of the set, leave out or remove photos, and the model versions with live progress.
import { get, post, patch, del } from "../api.js";
import { h, render, empty, errorBox, busy, toast, deletedToast, showStatus, clearStatus } from "../dom.js";
import * as events from "../events.js";
import { displayName } from "../filenames.js";
import { prepare } from "../images.js";
import * as queue from "../queue.js";
import { app } from "../router.js";
import { plural } from "../words.js";
import { consentNotice } from "./batches.js";
import { photoCard, pendingCard, readinessCard, photoStatus, namedByBlocking } from "./photos.js";
import { trainingCard } from "./training.js";

const OWNER = "uploads";

function addSection(sessionId, onAdd) {
  const camera = h("input", { id: "camera", type: "file", accept: "image/*", capture: "user", class: "visually-hidden" });
  const picker = h("input", { id: "picker", type: "file", accept: "image/*,.heic,.heif", multiple: true, class: "visually-hidden" });
  for (const input of [camera, picker]) {
    input.addEventListener("change", async () => { await onAdd([...input.files]); input.value = ""; });
  }
  const needed = app.config.min_photos;
  return h("section", { class: "card stack", "aria-labelledby": "add-title" },
    h("h2", { id: "add-title" }, "Add photos"),
    h("p", { class: "small muted" }, "Face the camera in good light, then turn a little left and right, and smile in some." +
      (needed ? " You need at least " + plural(needed, "usable photo", "usable photos") + "." : "")),
    h("div", { class: "row" },
      camera, h("label", { for: camera.id, class: "button" }, "Take a photo"),
      picker, h("label", { for: picker.id, class: "button secondary" }, "Choose photos")));
}

// Upload state above the tab bar: what is happening and, when waiting, a Retry button.
function uploadStatus(slots, waiting) {
  const count = slots.size;
  if (!count) { clearStatus(OWNER); return; }
  const retry = h("button", { type: "button", class: "secondary" }, "Retry now");
  retry.addEventListener("click", () => queue.retryNow());
  let text = "Uploading " + plural(count, "photo", "photos") + "…";
  if (waiting && waiting.reason === "offline") text = "Offline: " + plural(count, "photo waits", "photos wait") + " on this phone.";
  else if (waiting && waiting.reason === "busy") text = "The server is busy. Trying again" + (waiting.retryInS ? " in " + Math.ceil(waiting.retryInS) + " s" : "") + ".";
  else if (waiting && waiting.reason === "signed-out") text = "Sign in again to upload " + plural(count, "photo", "photos") + ".";
  showStatus(OWNER, h("span", {}, text), waiting && waiting.reason !== "signed-out" ? retry : null);
}

export async function batchView(sessionId) {
  const base = "/sessions/" + sessionId;
  const [session, photos, readiness, models] = await Promise.all([
    get(base), get(base + "/photos"), get(base + "/readiness"), get(base + "/models"),
  ]);
  const consent = app.me.consent_given;
  const reports = new Map(photos.photos.map((p) => [p.id, p]));
  let current = readiness;
  const readinessSlot = h("div");
  const cards = h("div", { class: "photos", "aria-label": "Photo results", role: "region" });
  const slots = new Map();
  const previews = new Map();  // photo id -> the picture the person chose (a refused one is not kept)
  const problem = h("div");
  const trainingsSlot = h("div");
  const train = h("button", { type: "button", class: "wide" }, "Train my model");
  const trainWhy = h("p", { class: "small muted", id: "train-why" });
  const emptyNote = empty("No photos yet", "Your photos show up here with a verdict each.");

  const names = () => new Map([...reports.values()].map((p) => [p.id, p.filename]));
  const syncEmpty = () => { emptyNote.hidden = cards.childElementCount > 0; };

  function showPhoto(id) {
    const card = document.getElementById("photo-" + id);
    if (!card) return;
    card.scrollIntoView({ block: "center" });
    card.focus({ preventScroll: true });
  }

  async function removePhoto(id) {
    try {
      const { receipt } = await del("/photos/" + id);
      reports.delete(id);
      deletedToast("Photo", receipt);
      await refresh();
    } catch (error) { toast(error.message); }
  }

  async function exclude(id, excluded) {
    try {
      reports.set(id, await patch("/photos/" + id, { excluded }));
      await refresh();
    } catch (error) { toast(error.message); }
  }

  function cardFor(report, preview) {
    const status = photoStatus(report, namedByBlocking(current));
    // A refused photo is only a verdict: dismissing a stored one deletes its record.
    let actions = { dismiss: () => { card.remove(); syncEmpty(); } };
    if (report.id && status === "refused") actions = { dismiss: () => removePhoto(report.id) };
    else if (report.id) actions = { remove: () => removePhoto(report.id), exclude: (on) => exclude(report.id, on) };
    const card = photoCard(report, { status, preview: preview || previews.get(report.id), actions });
    return card;
  }

  function drawPhotos() {
    for (const card of cards.querySelectorAll("article[id^='photo-']")) card.remove();
    for (const report of reports.values()) cards.append(cardFor(report));
    syncEmpty();
  }

  function drawReadiness() {
    readinessSlot.replaceChildren(readinessCard(current, { names: names(), onShow: showPhoto, onRemove: removePhoto }));
    const ready = models.models.some((m) => m.status === "succeeded");
    train.disabled = !current.ready || !consent;
    train.className = ready ? "secondary wide" : "wide";
    train.textContent = ready ? "Train a new version" : "Train my model";
    trainWhy.textContent = !consent ? "Training needs your consent."
      : current.ready ? "" : "Training starts once the set is ready: see Readiness above.";
  }

  async function refresh() {
    const [list, report] = await Promise.all([get(base + "/photos"), get(base + "/readiness")]);
    reports.clear();
    for (const p of list.photos) reports.set(p.id, p);
    current = report;
    drawReadiness();
    drawPhotos();
  }

  function drawModels() {
    trainingsSlot.replaceChildren(...models.models.slice().reverse().map((m) => trainingCard(m, {
      onCancel: async () => {
        try { await post("/trainings/" + m.id + "/cancel"); await refreshModels(); } catch (e) { toast(e.message); }
      },
      onDelete: async () => {
        if (!confirm("Delete model v" + m.version + " and the headshots made with it? This cannot be undone.")) return;
        try { const { receipt } = await del("/models/" + m.id); deletedToast("Model v" + m.version, receipt); await refreshModels(); } catch (e) { toast(e.message); }
      },
    })));
    drawReadiness();
  }
  async function refreshModels() {
    models.models = (await get(base + "/models")).models;
    drawModels();
  }

  train.addEventListener("click", async () => {
    problem.replaceChildren();
    try {
      await busy(train, "Starting…", () => post(base + "/trainings", {}));
      await refreshModels();
      trainingsSlot.firstChild?.scrollIntoView({ block: "center" });
    } catch (error) {
      problem.replaceChildren(errorBox(error));
    }
  });

  async function add(files) {
    for (const file of files) await queue.enqueue(sessionId, await prepare(file), file.name);
  }

  function placePending(item) {
    const slot = pendingCard(item);
    slots.set(item.id, slot);
    cards.prepend(slot.card);
    syncEmpty();
    return slot;
  }

  let waiting = null;
  const unsubscribeQueue = queue.subscribe((event) => {
    if (event.type === "offline") { waiting = { reason: "offline" }; uploadStatus(slots, waiting); return; }
    if (event.item.sessionId !== sessionId) return;
    if (event.type === "queued") {
      placePending(event.item).card.scrollIntoView({ block: "center" });
      uploadStatus(slots, waiting);
      return;
    }
    const slot = slots.get(event.item.id);
    if (!slot) return;
    if (event.type === "start") { waiting = null; slot.show("wait", "Uploading", "Sending…"); }
    if (event.type === "progress") {
      slot.bar.value = event.fraction;
      if (event.fraction >= 1) slot.show("wait", "Checking", "Checking the photo…");
    }
    if (event.type === "waiting") {
      waiting = event;
      if (event.reason === "offline") slot.show("muted", "Queued", "Kept on this phone: uploads when you are back online");
      else if (event.reason === "busy") slot.show("muted", "Waiting", "The server is busy: it goes up by itself shortly.");
      else slot.show("muted", "Waiting", "Sign in again to upload it.");
    }
    if (event.type === "done") {
      slots.delete(event.item.id);
      for (const report of event.reports) {
        if (report.id) { reports.set(report.id, report); previews.set(report.id, slot.preview); }
      }
      const refused = event.reports.filter((r) => !r.id);
      slot.card.replaceWith(...refused.map((r) => cardFor(r, slot.preview)));
      refresh();
    }
    if (event.type === "failed") {
      slots.delete(event.item.id);
      slot.card.replaceWith(cardFor({ filename: displayName(event.item.name), accepted: false,
        findings: [{ severity: "error", message: event.error.message, tip: "" }] }, slot.preview));
    }
    uploadStatus(slots, waiting);
  });
  for (const item of (await queue.pending()).filter((i) => i.sessionId === sessionId)) placePending(item);
  uploadStatus(slots, navigator.onLine ? null : { reason: "offline" });

  const unsubscribeEvents = events.on((kind, data) => {
    if (kind === "training" && data.session_id === sessionId) refreshModels();
  });

  drawModels();
  drawPhotos();
  render(
    h("p", {}, h("a", { class: "back", href: "#/" }, h("span", { "aria-hidden": "true" }, "‹\u00a0"), "All batches")),
    h("h1", {}, session.name),
    consent ? addSection(sessionId, add) : consentNotice(),
    readinessSlot,
    h("section", { class: "stack", "aria-labelledby": "model-title" },
      h("h2", { id: "model-title" }, "Your model"), problem, train, trainWhy, trainingsSlot),
    h("h2", {}, "Photos"),
    emptyNote, cards);
  return () => { unsubscribeQueue(); unsubscribeEvents(); clearStatus(OWNER); };
}
