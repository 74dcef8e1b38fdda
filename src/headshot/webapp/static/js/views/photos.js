// Photo result cards and the readiness card of a batch. One status per photo, agreeing with
// readiness: the server's PhotoReport.status when it sends one, else derived the same way.
import { h, badge } from "../dom.js";
import { displayName } from "../filenames.js";
import { plural } from "../words.js";

const STATUS = {
  usable: ["ok", "Usable"],
  needs_attention: ["warn", "Needs attention"],
  refused: ["bad", "Not usable"],
  excluded: ["muted", "Left out"],
};

// Photo ids named by a blocking set finding (another person, a near-duplicate).
export function namedByBlocking(readiness) {
  const ids = new Set();
  for (const f of readiness.findings || []) {
    if (f.severity === "error") for (const id of f.photo_ids || []) ids.add(id);
  }
  return ids;
}

export function photoStatus(report, blocking) {
  if (report.status) return report.status;
  if (report.excluded) return "excluded";
  if (!report.accepted) return "refused";
  return blocking.has(report.id) ? "needs_attention" : "usable";
}

function finding(f) {
  const error = f.severity === "error";
  return h("p", { class: "finding small " + (error ? "is-error" : "is-warning") },
    h("span", { class: "kind" }, error ? "Problem" : "Tip"), " ",
    h("strong", {}, f.message), " ", f.tip ? h("span", { class: "tip" }, f.tip) : null);
}

// The blocking reason first: errors before warnings, and among errors the face count first
// (two faces explains "too small" and the rest).
const FIRST = ["format", "too_large", "face_count", "identity", "duplicate"];
function ordered(findings) {
  const rank = (f) => (f.severity === "error" ? 0 : 100) + (FIRST.includes(f.code) ? FIRST.indexOf(f.code) : 50);
  return [...findings].sort((a, b) => rank(a) - rank(b));
}

// A file the browser cannot show (not a picture at all) keeps the blank square.
function thumbnail(source) {
  const blank = () => h("div", { class: "thumb", "aria-hidden": "true" });
  if (!source) return blank();
  return h("img", { class: "thumb", alt: "", src: source, width: 72, height: 72,
    onerror: (event) => event.target.replaceWith(blank()) });
}

// `actions`: {remove, exclude, dismiss} callbacks; `preview`: the picture the person chose, shown
// while it uploads and for a refused photo (which the server does not keep).
export function photoCard(report, { status, preview, actions }) {
  const [kind, words] = STATUS[status] || STATUS.usable;
  const source = report.id && status !== "refused" ? "/api/v1/photos/" + report.id + "/image?size=thumb" : preview;
  const thumb = thumbnail(source);
  const buttons = [];
  if (actions.exclude) {
    const excluded = status === "excluded";
    buttons.push(h("button", { type: "button", class: "ghost", onclick: () => actions.exclude(!excluded) },
      excluded ? "Include" : "Leave out"));
  }
  if (actions.remove) buttons.push(h("button", { type: "button", class: "ghost", onclick: actions.remove }, "Remove"));
  if (actions.dismiss) buttons.push(h("button", { type: "button", class: "ghost", onclick: actions.dismiss }, "Dismiss"));
  return h("article", { class: "photo status-" + status, id: report.id ? "photo-" + report.id : null,
    "aria-label": "Photo " + report.filename, tabindex: "-1" },
  thumb,
  h("div", {},
    h("div", { class: "row spread" }, h("span", { class: "name" }, report.filename), badge(kind, words)),
    status === "excluded" ? h("p", { class: "small muted" }, "Left out of training. Include it again at any time.") : null,
    ordered(report.findings || []).map(finding),
    buttons.length ? h("div", { class: "row actions" }, buttons) : null));
}

// A photo on its way up, named as the server will name it (never the raw name, which may hold
// bidi overrides or control characters).
export function pendingCard(item) {
  const name = displayName(item.name);
  const preview = URL.createObjectURL(item.blob);
  const bar = h("progress", { max: "1", value: "0", "aria-label": "Upload of " + name });
  const label = navigator.onLine ? ["wait", "Waiting"] : ["muted", "Queued"];
  const state = h("span", { class: "small muted" }, navigator.onLine ? "Waiting its turn…" : "Kept on this phone: uploads when you are back online");
  const status = badge(...label);
  const card = h("article", { class: "photo", "aria-label": "Photo " + name, "data-upload": item.id },
    thumbnail(preview),
    h("div", {}, h("div", { class: "row spread" }, h("span", { class: "name" }, name), status), state, bar));
  const show = (kind, words, text) => { status.className = "badge " + kind; status.textContent = words; state.textContent = text; };
  return { card, bar, state, preview, show };
}

function photoLinks(f, names, onShow, onRemove) {
  return h("ul", { class: "list named" }, f.photo_ids.map((id) => h("li", { class: "row spread" },
    h("button", { type: "button", class: "ghost name-link", onclick: () => onShow(id) }, names.get(id) || "This photo"),
    h("button", { type: "button", class: "ghost", "aria-label": "Remove " + (names.get(id) || "this photo"),
      onclick: () => onRemove(id) }, "Remove"))));
}

export function readinessCard(report, { names, onShow, onRemove }) {
  const shown = Math.min(report.accepted_count, report.required_count);
  const meter = h("div", { class: "meter" + (report.ready ? "" : " partial"), role: "meter",
    "aria-label": "Usable photos", "aria-valuemin": "0", "aria-valuemax": String(report.required_count),
    "aria-valuenow": String(shown) }, h("span"));
  meter.firstChild.style.width = Math.min(100, 100 * report.accepted_count / Math.max(1, report.required_count)) + "%";
  // The count finding says what the meter line says; its tip joins that line.
  const count = (report.findings || []).find((f) => f.code === "count");
  const findings = ordered((report.findings || []).filter((f) => f.code !== "count")).map((f) => h("li", { class: f.severity === "error" ? "is-error" : "is-warning" },
    h("strong", {}, f.message), " ", h("span", { class: "muted" }, f.tip),
    (f.photo_ids || []).length ? photoLinks(f, names, onShow, onRemove) : null));
  return h("section", { class: "card stack", "aria-labelledby": "readiness-title" },
    h("div", { class: "row spread" }, h("h2", { id: "readiness-title" }, "Readiness"),
      report.ready ? badge("ok", "Ready to train") : badge("warn", "Not ready yet")),
    meter,
    h("p", { class: "small" }, plural(report.accepted_count, "usable photo", "usable photos") + ", " + report.required_count + " needed." +
      (count && count.tip ? " " + count.tip : "")),
    findings.length ? h("ul", { class: "small findings" }, findings) : null);
}
