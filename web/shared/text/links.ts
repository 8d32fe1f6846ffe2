// Web addresses inside a message, found so that a view can show them as text with a warned
// click-through (never as live links built from someone else's markup). Only http(s)
// addresses are recognised; everything else, `javascript:` included, stays plain text.

export type Piece = { text: string } | { url: string };

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/g;
/** Trailing punctuation that usually ends a sentence rather than an address. */
const TRAILING = /[.,;:!?)\]]+$/;

export function splitLinks(text: string): Piece[] {
  const out: Piece[] = [];
  let at = 0;
  for (const m of text.matchAll(URL_RE)) {
    const index = m.index ?? 0;
    const url = m[0].replace(TRAILING, "");
    if (index > at) out.push({ text: text.slice(at, index) });
    out.push({ url });
    at = index + url.length;
  }
  if (at < text.length) out.push({ text: text.slice(at) });
  return out;
}
