// One batch: add photos (camera or gallery), see each photo's result as it is validated, the
// readiness of the set, and the trainings with live progress.
import { get, post } from "../api.js";
import { h, render, badge, empty, errorBox, busy, duration, toast } from "../dom.js";
import * as events from "../events.js";
import { prepare } from "../images.js";
import * as queue from "../queue.js";

// `preview`: the picture the person chose, shown while it uploads and for a rejected photo
// (which the server does not keep).
function photoCard(report, preview) {
  const rejected = !report.accepted;
  const errors = (report.findings || []).filter((f) => f.severity === "error");
  const warnings = (report.findings || []).filter((f) => f.severity !== "error");
  const source = report.id && !rejected ? "/api/v1/photos/" + report.id + "/image?size=thumb" : preview;
  const thumb = source
    ? h("img", { class: "thumb", alt: "", src: source, width: 72, height: 72 })
    : h("div", { class: "thumb", "aria-hidden": "true" });
  return h("article", { class: "photo" + (rejected ? " rejected" : ""), "aria-label": "Photo " + report.filename },
    thumb,
    h("div", {},
      h("div", { class: "row spread" }, h("span", { class: "name" }, report.filename),
        rejected ? badge("bad", "Not usable") : badge("ok", "Usable")),
      [...errors, ...warnings].map((f) => h("p", { class: "finding small" },
        h("strong", {}, f.message), " ", h("span", { class: "tip" }, f.tip)))));
}

function pendingCard(item) {
  const preview = URL.createObjectURL(item.blob);
  const bar = h("progress", { max: "1", value: "0", "aria-label": "Upload of " + item.name });
  const state = h("span", { class: "small muted" }, navigator.onLine ? "Waiting…" : "Queued: uploads when you are back online");
  const card = h("article", { class: "photo", "aria-label": "Photo " + item.name, "data-upload": item.id },
    h("img", { class: "thumb", alt: "", src: preview, width: 72, height: 72 }),
    h("div", {}, h("div", { class: "row spread" }, h("span", { class: "name" }, item.name), badge("wait", "Uploading")), state, bar));
  return { card, bar, state, preview };
}

function readinessCard(report) {
  const meter = h("div", { class: "meter" + (report.ready ? "" : " partial"), role: "meter",
    "aria-label": "Usable photos", "aria-valuemin": "0", "aria-valuemax": String(report.required_count),
    "aria-valuenow": String(Math.min(report.accepted_count, report.required_count)) }, h("span"));
  meter.firstChild.style.width = Math.min(100, 100 * report.accepted_count / report.required_count) + "%";
  const findings = (report.findings || []).map((f) => h("li", {}, h("strong", {}, f.message), " ", h("span", { class: "muted" }, f.tip)));
  return h("section", { class: "card stack", "aria-labelledby": "readiness-title" },
    h("div", { class: "row spread" }, h("h2", { id: "readiness-title" }, "Readiness"),
      report.ready ? badge("ok", "Ready to train") : badge("warn", "Not ready yet")),
    meter,
    h("p", { class: "small" }, report.accepted_count + " of " + report.required_count + " usable photos"),
    findings.length ? h("ul", { class: "small" }, findings) : null);
}

function trainingCard(model, onCancel) {
  const running = model.status === "queued" || model.status === "running";
  const percent = Math.round((model.progress || 0) * 100);
  const status = { succeeded: badge("ok", "Ready"), failed: badge("bad", "Failed"), cancelled: badge("bad", "Cancelled") }[model.status]
    || badge("wait", percent + "%");
  const body = [h("div", { class: "row spread" }, h("strong", {}, "Model v" + model.version), status)];
  if (running) {
    body.push(h("progress", { max: "100", value: String(percent), "aria-label": "Training progress v" + model.version }),
      h("p", { class: "small muted" }, model.stage + (model.eta_s ? " · " + duration(model.eta_s) : "")),
      h("button", { type: "button", class: "secondary", onclick: onCancel }, "Cancel training"));
  } else if (model.status === "succeeded") {
    body.push(h("a", { class: "button", href: "#/looks/" + model.id }, "Create headshots with v" + model.version));
  } else if (model.error) {
    body.push(h("p", { class: "small muted" }, model.error));
  }
  return h("article", { class: "card stack", "aria-label": "Model v" + model.version }, body);
}

export async function batchView(sessionId) {
  const [session, photos, readiness, models] = await Promise.all([
    get("/sessions/" + sessionId), get("/sessions/" + sessionId + "/photos"),
    get("/sessions/" + sessionId + "/readiness"), get("/sessions/" + sessionId + "/models"),
  ]);
  const readinessSlot = h("div", {}, readinessCard(readiness));
  const cards = h("div", { class: "photos", "aria-label": "Photo results" });
  const pending = new Map();
  for (const report of photos.photos) cards.append(photoCard(report));
  for (const item of (await queue.pending()).filter((i) => i.sessionId === sessionId)) {
    const slot = pendingCard(item);
    pending.set(item.id, slot);
    cards.prepend(slot.card);
  }
  const emptyNote = empty("No photos yet", "Your photos show up here with a verdict each.");
  const syncEmpty = () => { emptyNote.hidden = cards.childElementCount > 0; };
  syncEmpty();
  const trainingsSlot = h("div");
  const problem = h("div");
  const train = h("button", { type: "button", class: "wide", disabled: !readiness.ready }, "Train my model");

  async function refreshReadiness() {
    const report = await get("/sessions/" + sessionId + "/readiness");
    readinessSlot.replaceChildren(readinessCard(report));
    train.disabled = !report.ready;
  }
  async function refreshModels() {
    const list = (await get("/sessions/" + sessionId + "/models")).models;
    trainingsSlot.replaceChildren(...list.slice().reverse().map((m) => trainingCard(m, async () => {
      try { await post("/trainings/" + m.id + "/cancel"); await refreshModels(); } catch (e) { toast(e.message); }
    })));
  }
  trainingsSlot.replaceChildren(...models.models.slice().reverse().map((m) => trainingCard(m, async () => {
    await post("/trainings/" + m.id + "/cancel"); await refreshModels();
  })));

  train.addEventListener("click", async () => {
    problem.replaceChildren();
    try {
      await busy(train, "Starting…", () => post("/sessions/" + sessionId + "/trainings", {}));
      await refreshModels();
    } catch (error) {
      problem.replaceChildren(errorBox(error));
    }
  });

  async function add(files) {
    for (const file of files) {
      const blob = await prepare(file);
      await queue.enqueue(sessionId, blob, file.name);
    }
  }
  const camera = h("input", { id: "camera", type: "file", accept: "image/*", capture: "user", class: "visually-hidden" });
  const picker = h("input", { id: "picker", type: "file", accept: "image/*,.heic,.heif", multiple: true, class: "visually-hidden" });
  for (const input of [camera, picker]) {
    input.addEventListener("change", async () => { await add([...input.files]); input.value = ""; });
  }

  const unsubscribeQueue = queue.subscribe((event) => {
    if (event.item.sessionId !== sessionId) return;
    if (event.type === "queued") {
      const slot = pendingCard(event.item);
      pending.set(event.item.id, slot);
      cards.prepend(slot.card);
      syncEmpty();
      return;
    }
    const slot = pending.get(event.item.id);
    if (!slot) return;
    if (event.type === "start") slot.state.textContent = "Uploading…";
    if (event.type === "progress") {
      slot.bar.value = event.fraction;
      if (event.fraction >= 1) slot.state.textContent = "Checking the photo…";
    }
    if (event.type === "waiting") slot.state.textContent = "Queued: uploads when you are back online";
    if (event.type === "done") {
      slot.card.replaceWith(...event.reports.map((report) => photoCard(report, slot.preview)));
      pending.delete(event.item.id);
      refreshReadiness();
    }
    if (event.type === "failed") {
      slot.card.replaceWith(photoCard({ filename: event.item.name, accepted: false,
        findings: [{ severity: "error", message: event.error.message, tip: "" }] }, slot.preview));
      pending.delete(event.item.id);
    }
  });
  const unsubscribeEvents = events.on((kind, data) => {
    if (kind === "training" && data.session_id === sessionId) refreshModels();
  });

  render(
    h("p", {}, h("a", { href: "#/" }, "‹ All batches")),
    h("h1", {}, session.name),
    h("section", { class: "card stack", "aria-labelledby": "add-title" },
      h("h2", { id: "add-title" }, "Add photos"),
      h("p", { class: "small muted" }, "Face the camera in good light, then turn a little left and right, and smile in some. Ten or more photos work best."),
      h("div", { class: "row" },
        camera, h("label", { for: camera.id, class: "button" }, "Take a photo"),
        picker, h("label", { for: picker.id, class: "button secondary" }, "Choose photos"))),
    readinessSlot,
    h("section", { class: "stack", "aria-labelledby": "model-title" },
      h("h2", { id: "model-title" }, "Your model"), problem, train, trainingsSlot),
    h("h2", {}, "Photos"),
    emptyNote, cards);
  return () => { unsubscribeQueue(); unsubscribeEvents(); };
}
