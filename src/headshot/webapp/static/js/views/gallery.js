// The gallery: filters in a collapsible sheet, favourites, one overflow menu per card (download,
// more like this, share by an expiring link, links, delete) and "download all" that says what it includes.
import { get, patch, post, del } from "../api.js";
import { h, render, empty, errorBox, toast, badge, deletedToast } from "../dom.js";
import { plural } from "../words.js";

const FILTER_KEYS = ["session", "model", "background", "attire", "lighting", "favorite", "min_likeness"];

function query(filters) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) if (value) params.set(key, value);
  return params.toString();
}

async function share(headshot, slot) {
  const link = await post("/headshots/" + headshot.id + "/shares", { expires_in_s: 7 * 24 * 3600 });
  const url = new URL(link.url, location.origin).href;
  const copy = h("button", { type: "button", class: "secondary" }, "Copy link");
  copy.addEventListener("click", async () => {
    try { await navigator.clipboard.writeText(url); copy.textContent = "Copied"; } catch (_) { input.select(); }
  });
  const revoke = h("button", { type: "button", class: "secondary" }, "Revoke link");
  revoke.addEventListener("click", async () => {
    await del("/shares/" + link.id);
    slot.replaceChildren(h("p", { class: "small muted" }, "Link revoked."));
  });
  const input = h("input", { id: "link-" + link.id, type: "text", readonly: true, value: url });
  slot.replaceChildren(h("div", { class: "stack small share" },
    h("label", { for: "link-" + link.id }, "Share link (expires " + new Date(link.expires_at).toLocaleDateString() + ")"),
    input, h("div", { class: "row" }, copy, revoke)));
  slot.scrollIntoView({ block: "center" });
  if (navigator.share) {
    try { await navigator.share({ title: "My headshot", url }); } catch (_) { /* closed: the link is shown */ }
  }
}

// The headshot's links that still work, each with its own revoke button.
async function showLinks(headshot, slot) {
  const { shares } = await get("/headshots/" + headshot.id + "/shares");
  if (!shares.length) {
    slot.replaceChildren(h("p", { class: "small muted" }, "No active links."));
    return;
  }
  slot.replaceChildren(h("ul", { class: "list small", "aria-label": "Active links" }, shares.map((link) => {
    const revoke = h("button", { type: "button", class: "ghost" }, "Revoke");
    revoke.addEventListener("click", async () => { await del("/shares/" + link.id); showLinks(headshot, slot); });
    return h("li", { class: "row spread" },
      h("span", {}, "Expires " + new Date(link.expires_at).toLocaleDateString()), revoke);
  })));
}

function lookWords(headshot, names) {
  const parts = [(names.backgrounds[headshot.background] || headshot.background) + " background"];
  if (headshot.attire) parts.push(names.attire[headshot.attire] || headshot.attire);
  else parts.push("own clothes");
  parts.push((names.lighting[headshot.lighting] || headshot.lighting) + " lighting");
  return parts.join(", ");
}

function shortLook(headshot, names) {
  return (names.backgrounds[headshot.background] || headshot.background) + " · " +
    (names.lighting[headshot.lighting] || headshot.lighting);
}

function resolutionWords(headshot) {
  if (headshot.upscaled && headshot.effective_width) {
    return "≈ " + headshot.effective_width + "×" + headshot.effective_height + " effective";
  }
  return headshot.width + "×" + headshot.height;
}

// One overflow menu per card: a button that opens a short list of actions.
function menu(headshot, slot, refresh) {
  const toggle = h("button", { type: "button", class: "more", "aria-haspopup": "menu", "aria-expanded": "false",
    "aria-label": "More actions" }, "⋯");
  const list = h("div", { class: "menu-list", role: "menu", hidden: true });
  const setOpen = (open) => { list.hidden = !open; toggle.setAttribute("aria-expanded", String(open)); };
  toggle.addEventListener("click", () => setOpen(list.hidden));
  const item = (text, action) => h("button", { type: "button", role: "menuitem", class: "ghost",
    onclick: () => { setOpen(false); Promise.resolve(action()).catch((e) => toast(e.message)); } }, text);
  list.append(
    h("a", { role: "menuitem", class: "ghost button", href: "/api/v1/headshots/" + headshot.id + "/image",
      download: "headshot-" + headshot.id + ".jpg", onclick: () => setOpen(false) }, "Download"),
    item("More like this", async () => {
      // A new generation of this look on the same model; it shows on the batch page.
      await post("/headshots/" + headshot.id + "/more", {});
      toast("Making more like this one.");
      location.hash = "#/batch/" + headshot.session_id;
    }),
    item("Share", () => share(headshot, slot)),
    item("Active links", () => showLinks(headshot, slot)),
    item("Delete", async () => {
      if (!confirm("Delete this headshot for good?")) return;
      const { receipt } = await del("/headshots/" + headshot.id);
      deletedToast("Headshot", receipt);
      refresh();
    }));
  return h("div", { class: "menu" }, toggle, list);
}

function card(headshot, names, refresh) {
  const slot = h("div", { class: "meta" });
  const favourite = h("button", { type: "button", class: "star", "aria-pressed": String(headshot.favorite),
    "aria-label": headshot.favorite ? "Unfavourite" : "Favourite" }, headshot.favorite ? "★" : "☆");
  favourite.addEventListener("click", async () => { await patch("/headshots/" + headshot.id, { favorite: !headshot.favorite }); refresh(); });
  const likeness = headshot.likeness === null ? "likeness unknown" : "likeness " + Math.round(headshot.likeness * 100) + "%";
  const look = lookWords(headshot, names);
  return h("article", { class: "shot", "aria-label": "Headshot: " + look },
    h("img", { src: "/api/v1/headshots/" + headshot.id + "/image?size=thumb", alt: "Headshot, " + look,
      width: 384, height: 480, loading: "lazy", decoding: "async" }),
    h("div", { class: "meta" },
      h("span", { class: "muted" }, likeness), " ", headshot.flagged ? badge("warn", "Low likeness") : null,
      h("br"), h("span", { class: "small" }, shortLook(headshot, names)),
      h("br"), h("span", { class: "small muted" }, resolutionWords(headshot))),
    h("div", { class: "actions" }, favourite, menu(headshot, slot, refresh)),
    slot);
}

function filterSheet(filters, choices, onChange) {
  const select = (key, label, options) => {
    const id = "filter-" + key;
    const el = h("select", { id }, h("option", { value: "" }, "All"),
      options.map(([value, text]) => h("option", { value, selected: filters[key] === value }, text)));
    el.addEventListener("change", () => { filters[key] = el.value; onChange(); });
    return h("div", {}, h("label", { for: id }, label), el);
  };
  const favourites = h("input", { id: "filter-favorite", type: "checkbox" });
  favourites.addEventListener("change", () => { filters.favorite = favourites.checked ? "true" : ""; onChange(); });
  const count = h("span", { class: "small muted" });
  const sheet = h("details", { class: "card sheet" },
    h("summary", {}, "Filters ", count),
    h("form", { class: "filters", onsubmit: (e) => e.preventDefault() },
      select("session", "Batch", choices.sessions),
      select("model", "Model version", choices.models),
      select("background", "Background", choices.backgrounds),
      choices.attire ? select("attire", "Attire", choices.attire) : null,
      select("lighting", "Lighting", choices.lighting),
      select("min_likeness", "Likeness", [["0.36", "Good likeness only"], ["0.5", "Strong likeness only"]]),
      h("label", { class: "check full", for: "filter-favorite" }, favourites, "Favourites only")));
  const showCount = () => {
    const active = FILTER_KEYS.filter((k) => filters[k]).length;
    count.textContent = active ? "(" + active + " on)" : "";
  };
  showCount();
  return { sheet, showCount };
}

export async function galleryView() {
  const initial = new URLSearchParams(location.hash.split("?")[1] || "");
  const [styles, sessions] = await Promise.all([get("/styles"), get("/sessions")]);
  const models = (await Promise.all(sessions.sessions.map(async (s) =>
    (await get("/sessions/" + s.id + "/models")).models
      .filter((m) => m.status === "succeeded")
      .map((m) => [m.id, s.name + " · v" + m.version])))).flat();
  const names = Object.fromEntries(["backgrounds", "attire", "lighting"].map((axis) =>
    [axis, Object.fromEntries(styles[axis].map((s) => [s.id, s.name]))]));
  const pairs = (list) => list.map((s) => [s.id, s.name]);
  const attireAxis = (styles.axes || {}).attire;
  const filters = Object.fromEntries(FILTER_KEYS.map((k) => [k, ""]));
  filters.model = initial.get("model") || "";
  const grid = h("div", { class: "gallery", role: "region", "aria-label": "Headshots" });
  const more = h("button", { type: "button", class: "secondary wide", hidden: true }, "Load more");
  const all = h("button", { type: "button", class: "secondary" }, "Download all");
  const allNote = h("p", { class: "small muted", id: "download-note" });
  all.setAttribute("aria-describedby", "download-note");
  const problem = h("div");
  let cursor = null;
  let shown = 0;

  function describeDownload(total) {
    const filtered = FILTER_KEYS.some((k) => filters[k]);
    all.disabled = total === 0;
    all.textContent = total === 0 ? "Nothing to download" : "Download " + (total === null ? "all" : plural(total, "headshot", "headshots"));
    allNote.textContent = total === 0 ? "No headshots match." : filtered
      ? "One zip of the headshots that match your filters." : "One zip of every headshot in your gallery.";
  }
  all.addEventListener("click", () => {
    const link = h("a", { href: "/api/v1/headshots/archive?" + query(filters), download: "" });
    document.body.append(link); link.click(); link.remove();
  });

  async function load(reset) {
    problem.replaceChildren();
    try {
      const page = await get("/headshots?" + query({ ...filters, cursor: reset ? "" : cursor }));
      if (reset) { grid.replaceChildren(); shown = 0; }
      for (const headshot of page.headshots) grid.append(card(headshot, names, () => load(true)));
      shown += page.headshots.length;
      cursor = page.next_cursor;
      more.hidden = !cursor;
      describeDownload(page.total !== undefined ? page.total : (cursor ? null : shown));
      sheet.showCount();
      if (!shown) grid.replaceChildren(empty("No headshots here yet", FILTER_KEYS.some((k) => filters[k])
        ? "Nothing matches these filters." : "Train a model in a batch, then choose your looks."));
    } catch (error) {
      problem.replaceChildren(errorBox(error));
    }
  }
  more.addEventListener("click", () => load(false));
  const sheet = filterSheet(filters, {
    sessions: pairs(sessions.sessions), models, backgrounds: pairs(styles.backgrounds),
    attire: attireAxis && !attireAxis.supported ? null : pairs(styles.attire), lighting: pairs(styles.lighting),
  }, () => load(true));
  render(h("h1", {}, "Gallery"), sheet.sheet,
    h("div", { class: "row spread download" }, all, allNote), problem, grid, more);
  await load(true);
}
