// DOM helpers: everything a visitor or colleague wrote becomes text nodes (textContent only,
// never innerHTML; OWASP ASVS v5.0.0-1.2.1, output encoding for the HTML context). Web
// addresses in messages stay text (shared/text/links.ts); a click on one asks first, then
// opens it without a referrer or an opener.

import { splitLinks } from "../shared/text/links.js";

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls = "", text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls !== "") e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export function byId<T extends HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`#${id} is missing from index.html`);
  return e as T;
}

export function show(e: HTMLElement, visible: boolean): void {
  e.hidden = !visible;
}

/**
 * A message's text: plain text nodes, each web address a button that shows the full address
 * and asks before leaving (`confirmLink`), so a look-alike link cannot take anyone anywhere
 * in one click.
 */
export function messageText(text: string, confirmLink: (url: string) => void): HTMLElement {
  const p = el("p", "text");
  for (const piece of splitLinks(text)) {
    if ("text" in piece) {
      p.append(document.createTextNode(piece.text));
      continue;
    }
    const b = el("button", "link", piece.url);
    b.type = "button";
    b.title = "Opens outside Sealdesk after a warning";
    b.addEventListener("click", () => confirmLink(piece.url));
    p.append(b);
  }
  return p;
}
