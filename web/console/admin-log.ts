// Devices waiting for certification, and the audit log. Certifying needs the tenant's issuing
// key, which never reaches a browser: the page shows each pending device's fingerprint and
// the exact CLI command that certifies it after the comparison. The audit log (content-free,
// oldest first) is read a page at a time and rendered as text.

import type { ConsoleApi } from "./api.js";
import type { StaffView } from "./admin.js";
import type { Say } from "./admin-inbox.js";
import { codeOf } from "./desk.js";
import { byId, el, show } from "./dom.js";
import { A, when } from "./strings.js";

const AUDIT_PAGE = 50;
const FINGERPRINT = /^([0-9a-f]{4} ){7}[0-9a-f]{4}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface DeviceView {
  id: string;
  staff_id: string;
  label: string;
  fingerprint: string;
  status: string;
  requested_at: string;
}

interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target?: string | null;
  details: Record<string, string>;
  ip?: string | null;
}

/**
 * The command that certifies `device` (docs: `sealdesk admin keys enrol`). Agents get an agent
 * certificate, everyone who may supervise a supervisor one. The fingerprint is the one the
 * server lists; the admin compares it with the device's screen before running it.
 */
export function enrolCommand(tenant: string, device: DeviceView, role: string): string {
  if (!UUID.test(tenant) || !UUID.test(device.id) || !FINGERPRINT.test(device.fingerprint)) throw new Error("unexpected device listing");
  const certRole = role === "agent" ? "agent" : "supervisor";
  return `sealdesk admin keys enrol --tenant ${tenant} --device ${device.id} --fingerprint "${device.fingerprint}" ` +
    `--role ${certRole} --issuing issuing.key --team-key team.key --passphrase-stdin`;
}

export class AdminLog {
  /** The oldest entry shown so far: the next page is below it (newest first). */
  private oldestSeq: number | undefined;

  constructor(
    private readonly api: ConsoleApi,
    private readonly tenant: string,
    private readonly say: Say,
    private readonly staff: () => readonly StaffView[],
  ) {}

  private get t(): string {
    return encodeURIComponent(this.tenant);
  }

  wire(): void {
    byId("devices-reload").addEventListener("click", () => void this.loadDevices());
    byId("audit-more").addEventListener("click", () => void this.loadAudit(false));
  }

  async open(): Promise<void> {
    await Promise.all([this.loadDevices(), this.loadAudit(true)]);
  }

  private nameOf(staffId: string): StaffView | undefined {
    return this.staff().find((s) => s.id === staffId);
  }

  private async loadDevices(): Promise<void> {
    try {
      const { devices } = await this.api.request<{ devices: DeviceView[] }>("GET", `/api/tenants/${this.t}/devices?status=pending`);
      const items = devices.map((d) => {
        const who = this.nameOf(d.staff_id);
        const li = el("li");
        li.dataset.device = d.id;
        const text = el("div", "grow");
        text.append(
          el("strong", "", A.deviceOf(who?.display_name ?? d.staff_id, d.label, d.requested_at)),
          el("p", "fingerprint small", d.fingerprint),
          el("span", "muted block small", A.enrolCommand),
        );
        try {
          text.append(el("pre", "mono", enrolCommand(this.tenant, d, who?.role ?? "agent")));
        } catch (e) {
          text.append(el("p", "error", A.failed("The command", codeOf(e))));
        }
        li.append(text);
        return li;
      });
      byId("devices").replaceChildren(...(items.length > 0 ? items : [el("li", "muted", A.devicesNone)]));
    } catch (e) {
      byId("devices").replaceChildren(el("li", "error", A.failed("Loading the devices", codeOf(e))));
    }
  }

  private actorText(actor: string): string {
    if (!actor.startsWith("staff:")) return actor;
    const s = this.nameOf(actor.slice("staff:".length));
    return s === undefined ? actor : `${s.display_name} (${s.email})`;
  }

  private async loadAudit(fresh: boolean): Promise<void> {
    if (fresh) {
      this.oldestSeq = undefined;
      byId("audit-rows").replaceChildren();
    }
    try {
      const below = this.oldestSeq === undefined ? "" : `&before=${this.oldestSeq}`;
      const entries = await this.api.request<AuditEntry[]>("GET", `/api/tenants/${this.t}/audit?order=newest&limit=${AUDIT_PAGE}${below}`);
      const rows = entries.map((e) => {
        const tr = el("tr");
        const details = Object.entries(e.details).map(([k, v]) => `${k}=${v}`).join(", ");
        tr.append(
          el("td", "", String(e.seq)),
          el("td", "", when(e.at)),
          el("td", "", this.actorText(e.actor)),
          el("td", "mono", e.action),
          el("td", "mono", e.target ?? ""),
          el("td", "", e.ip ? `${details}${details === "" ? "" : " · "}${e.ip}` : details),
        );
        return tr;
      });
      byId("audit-rows").append(...rows);
      this.oldestSeq = entries.at(-1)?.seq ?? this.oldestSeq;
      const more = byId<HTMLButtonElement>("audit-more");
      more.disabled = entries.length < AUDIT_PAGE;
      more.textContent = more.disabled ? A.auditEnd : A.auditMore;
      show(more, true);
    } catch (e) {
      this.say.error(A.failed("Loading the audit log", codeOf(e)));
    }
  }
}
