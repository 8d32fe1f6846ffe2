// The widget's entry point: the single ES module a tenant embeds with
//   <script type="module" src=".../sealdesk-widget.js" integrity="sha384-…" crossorigin="anonymous"
//     data-sealdesk-inbox="TENANT_ID/TEAM_ID" data-sealdesk-tenant-key="BASE64_ROOT_KEY[,MORE]"
//     [data-sealdesk-server="https://chat.example.com"] [data-sealdesk-lang="en"]>
// Module scripts have no document.currentScript: the element is found by import.meta.url.

import { browserTransport } from "../shared/protocol/socket.js";
import { VisitorSession } from "./session.js";
import { readSnippet } from "./snippet.js";
import { holdInboxLock, openStateStore } from "./store.js";
import { en, languages } from "./strings.js";
import { WidgetView } from "./ui.js";

async function boot(): Promise<void> {
  const snippet = readSnippet(document, import.meta.url);
  if (snippet === null) {
    console.error("Sealdesk widget: no valid <script data-sealdesk-inbox data-sealdesk-tenant-key> found for", import.meta.url);
    return;
  }
  const inbox = `${snippet.tenant}/${snippet.team}`;
  // Without IndexedDB (some private modes) the widget works, only without resume.
  const store = await openStateStore(inbox).catch(() => null);
  const session = new VisitorSession({ ...snippet, transport: browserTransport, store, lock: () => holdInboxLock(inbox) });
  const view = new WidgetView(session, languages[snippet.lang] ?? en);
  document.body.append(view.host);
  void session.start();
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => void boot(), { once: true });
else void boot();
