// A file's name as the server keeps it (domain/filenames.py, the same rule step by step), for a
// photo still on this phone: waiting, uploading, or refused before the server could answer with
// its own copy. The raw name still goes up with the file: the server makes its display name
// itself and never trusts ours (the two can differ only on characters one Unicode version has
// assigned and the other not).
const MAX_LENGTH = 120;
const MAX_EXTENSION = 10;
const INVISIBLE = /\p{C}/gu;  // control, format (bidi overrides, zero-width), private-use, unassigned
const RESERVED = /[<>:"/\\|?*]/g;

export function displayName(raw, fallback = "photo") {
  const name = String(raw).normalize("NFC").replace(/\\/g, "/").split("/").pop();
  const kept = name.replace(INVISIBLE, "").replace(RESERVED, "");
  const tidy = kept.split(/\s+/u).filter(Boolean).join(" ").replace(/^[ .]+|[ .]+$/g, "");
  return capped(tidy) || fallback;
}

// Lengths count code points, as Python's do, so an emoji is one character here too.
function capped(name) {
  const chars = Array.from(name);
  if (chars.length <= MAX_LENGTH) return name;
  const dot = chars.lastIndexOf(".");
  const extension = chars.slice(dot + 1);
  if (dot > 0 && extension.length <= MAX_EXTENSION) {
    const stem = chars.slice(0, MAX_LENGTH - extension.length - 1).join("");
    return stem.replace(/[ .]+$/, "") + "." + extension.join("");
  }
  return chars.slice(0, MAX_LENGTH).join("").replace(/[ .]+$/, "");
}
