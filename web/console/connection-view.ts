// The conversation view's line about the live connection (#conn): nothing while all is well,
// "Reconnecting…" while the chat tries again (link.ts), "Connected again" for a few seconds
// once it is back, and why it ended if it gave up. `data-state` carries the state's kind.

import { byId } from "./dom.js";
import { connectionText, type LinkState } from "./reconnect-plan.js";

/** How long "Connected again" stays up. */
const BACK_SHOWN_MS = 6_000;

export class ConnectionView {
  private timer: number | undefined;

  show(state: LinkState): void {
    window.clearTimeout(this.timer);
    const line = byId("conn");
    line.dataset.state = state.kind;
    line.textContent = connectionText(state);
    line.classList.toggle("warn", state.kind === "reconnecting" || state.kind === "ended" || state.kind === "lost_access");
    if (state.kind === "live" && state.again) this.timer = window.setTimeout(() => (line.textContent = ""), BACK_SHOWN_MS);
  }

  clear(): void {
    window.clearTimeout(this.timer);
    const line = byId("conn");
    delete line.dataset.state;
    line.textContent = "";
    line.classList.remove("warn");
  }
}
