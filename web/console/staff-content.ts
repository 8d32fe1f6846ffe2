// Wires the staff-only content into the conversation view: the canned responses under the
// composer and the internal notes panel under them (both built here, outside the chat's DOM),
// following the conversation the agent opens in the lists (queue.ts announces it with the
// `sealdesk:conversation` event). Neither goes through the conversation's MLS group.

import type { ConversationView } from "../shared/protocol/types.js";
import type { ConsoleApi, StaffInfo } from "./api.js";
import { CannedBox } from "./canned.js";
import type { ReadyDevice } from "./device.js";
import { byId } from "./dom.js";
import { NotesPanel } from "./notes.js";

/** The event the lists dispatch on `document` when a conversation is opened. */
export const CONVERSATION_OPENED = "sealdesk:conversation";

export class StaffContent {
  private readonly notes: NotesPanel;
  private readonly canned: CannedBox;
  private readonly listener = (ev: Event): void => {
    const c = (ev as CustomEvent<ConversationView>).detail;
    this.canned.show(c);
    this.notes.show(c);
  };

  constructor(api: ConsoleApi, me: StaffInfo, device: ReadyDevice) {
    this.notes = new NotesPanel(api, device);
    this.canned = new CannedBox(api, device, me.role);
  }

  start(): void {
    byId("composer").after(this.canned.root, this.notes.root);
    document.addEventListener(CONVERSATION_OPENED, this.listener);
  }

  stop(): void {
    document.removeEventListener(CONVERSATION_OPENED, this.listener);
    this.notes.stop();
    this.canned.stop();
    this.canned.root.remove();
    this.notes.root.remove();
  }
}
