// Wires the staff-only content into the conversation view: the canned responses under the
// composer and the internal notes panel under them (both built here, outside the chat's DOM),
// image previews fetched on request (attachment-preview.ts), following the conversation the agent opens in the lists (queue.ts announces it with the
// `sealdesk:conversation` event). Neither goes through the conversation's MLS group. Also, for
// the roles that manage canned responses, their re-seal after a team key rotation
// (canned-reseal.ts), and the device the administration page seals them with (admin-canned.ts).

import type { ConversationView } from "../shared/protocol/types.js";
import { setCannedDevice } from "./admin-canned.js";
import { onFetchFile, revokePreviews } from "./attachment-preview.js";
import { fetchFile } from "./attachments.js";
import type { ConsoleApi, StaffInfo } from "./api.js";
import { CannedBox } from "./canned.js";
import { ResealWatch } from "./canned-reseal.js";
import type { ReadyDevice } from "./device.js";
import { byId } from "./dom.js";
import { NotesPanel } from "./notes.js";
import { MANAGING_ROLES } from "./sealed-content.js";

/** The event the lists dispatch on `document` when a conversation is opened. */
export const CONVERSATION_OPENED = "sealdesk:conversation";

export class StaffContent {
  private readonly notes: NotesPanel;
  private readonly canned: CannedBox;
  /** For the roles that manage canned responses: re-seals them after a team key rotation. */
  private readonly reseal: ResealWatch | undefined;
  private readonly device: ReadyDevice;
  private readonly listener = (ev: Event): void => {
    const c = (ev as CustomEvent<ConversationView>).detail;
    // Image previews: the previous conversation's are let go; this one's are fetched on request.
    revokePreviews();
    onFetchFile((ref) => fetchFile(this.api, c.tenant_id, c.id, ref));
    this.canned.show(c);
    this.notes.show(c);
  };

  constructor(
    private readonly api: ConsoleApi,
    me: StaffInfo,
    device: ReadyDevice,
  ) {
    this.notes = new NotesPanel(api, device);
    this.canned = new CannedBox(api, device, me.role);
    this.device = device;
    this.reseal = MANAGING_ROLES.includes(me.role) ? new ResealWatch(api, device, me.tenant_id) : undefined;
  }

  start(): void {
    byId("composer").after(this.canned.root, this.notes.root);
    document.addEventListener(CONVERSATION_OPENED, this.listener);
    setCannedDevice(this.device);
    this.reseal?.start();
  }

  stop(): void {
    this.reseal?.stop();
    setCannedDevice(undefined);
    onFetchFile(undefined);
    revokePreviews();
    document.removeEventListener(CONVERSATION_OPENED, this.listener);
    this.notes.stop();
    this.canned.stop();
    this.canned.root.remove();
    this.notes.root.remove();
  }
}
