// The administration page (admins and owners; the server checks every request anyway):
// staff with their role, disabling and ending their sessions, invitations, and the tenant's
// security settings. The inbox settings, the embed code, devices and the audit log are in
// admin-inbox.ts and admin-log.ts; the canned responses (also the whole page a supervisor
// sees) in admin-canned.ts. Every name and address is set as text.

import { ApiError, type ConsoleApi, type StaffInfo } from "./api.js";
import { CA, CannedAdmin } from "./admin-canned.js";
import { AdminLog } from "./admin-log.js";
import { InboxAdmin } from "./admin-inbox.js";
import { codeOf } from "./desk.js";
import { byId, el, show } from "./dom.js";
import { A } from "./strings.js";

/** Who sees the page: supervisors only its canned responses card, admins and owners all of it. */
export const ADMIN_ROLES = ["supervisor", "admin", "owner"];
const FULL_ADMIN_ROLES = ["admin", "owner"];
const ROLES = ["agent", "supervisor", "admin", "owner"];

export interface StaffView extends StaffInfo {
  disabled: boolean;
  has_password: boolean;
}

interface TenantSettings {
  require_second_factor: boolean;
  retention_days: number;
  session_idle_minutes: number;
  session_absolute_hours: number;
  staff_ip_allowlist: string[];
  [other: string]: unknown;
}

export class AdminPage {
  private wired = false;
  private settings: TenantSettings | undefined;
  private readonly inbox: InboxAdmin;
  private readonly log: AdminLog;
  private readonly canned: CannedAdmin;
  private readonly full: boolean;
  private staff: StaffView[] = [];

  constructor(
    private readonly api: ConsoleApi,
    private readonly me: StaffInfo,
  ) {
    const say = { status: (t: string) => this.status(t), error: (t: string) => this.error(t) };
    this.inbox = new InboxAdmin(api, me.tenant_id, say);
    this.log = new AdminLog(api, me.tenant_id, say, () => this.staff);
    this.canned = new CannedAdmin(api, me.tenant_id);
    this.full = FULL_ADMIN_ROLES.includes(me.role);
    const page = byId("admin");
    if (!this.full) {
      // A supervisor's page: the canned responses only (the server refuses the rest anyway).
      page.querySelectorAll<HTMLElement>(":scope > section.card").forEach((card) => show(card, false));
      byId("admin-title").textContent = CA.title;
      byId("nav-admin").textContent = CA.title;
    }
    page.append(this.canned.root);
  }

  private get t(): string {
    return encodeURIComponent(this.me.tenant_id);
  }

  private status(text: string): void {
    byId("admin-status").textContent = text;
    if (text !== "") byId("admin-error").textContent = "";
  }

  private error(text: string): void {
    byId("admin-error").textContent = text;
    if (text !== "") byId("admin-status").textContent = "";
  }

  async open(): Promise<void> {
    if (!this.wired) this.wire();
    this.status("");
    this.error("");
    if (!this.full) {
      await this.canned.open();
      return;
    }
    await this.loadStaff();
    await Promise.all([this.loadSettings(), this.inbox.open(), this.log.open(), this.canned.open()]);
  }

  private wire(): void {
    this.wired = true;
    if (!this.full) return;
    byId<HTMLFormElement>("invite-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.invite();
    });
    byId<HTMLFormElement>("settings-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.saveSettings();
    });
    this.inbox.wire();
    this.log.wire();
  }

  private async loadStaff(): Promise<void> {
    try {
      this.staff = await this.api.request<StaffView[]>("GET", `/api/tenants/${this.t}/staff`);
      byId("staff-rows").replaceChildren(...this.staff.map((s) => this.staffRow(s)));
    } catch (e) {
      this.error(A.failed("Loading the staff", codeOf(e)));
    }
  }

  private staffRow(s: StaffView): HTMLTableRowElement {
    const tr = el("tr");
    tr.dataset.staff = s.id;
    const role = el("select");
    role.setAttribute("aria-label", A.roleOf(s.display_name));
    for (const r of ROLES) {
      const o = el("option", "", r);
      o.value = r;
      role.append(o);
    }
    role.value = s.role;
    role.addEventListener("change", () => void this.act(`/staff/${encodeURIComponent(s.id)}/role`, "PUT", { role: role.value }, A.roleChanged(s.display_name, role.value)));
    const state = el("span", s.disabled ? "badge off" : "badge", s.disabled ? A.disabled : s.has_password ? A.active : A.invited);
    const toggle = el("button", "", s.disabled ? A.enable : A.disable);
    toggle.type = "button";
    toggle.setAttribute("aria-label", `${s.disabled ? A.enable : A.disable} ${s.display_name}`);
    toggle.addEventListener("click", () =>
      void this.act(`/staff/${encodeURIComponent(s.id)}/${s.disabled ? "enable" : "disable"}`, "POST", undefined, s.disabled ? A.enabled(s.display_name) : A.disabledNow(s.display_name)));
    const end = el("button", "", A.endSessions);
    end.type = "button";
    end.setAttribute("aria-label", `${A.endSessions} ${s.display_name}`);
    end.addEventListener("click", () => void this.act(`/staff/${encodeURIComponent(s.id)}/revoke-sessions`, "POST", undefined, A.sessionsEnded(s.display_name)));
    const cells = [el("td", "", s.display_name), el("td", "mono", s.email), el("td"), el("td"), el("td")];
    cells[2]?.append(role);
    cells[3]?.append(state);
    cells[4]?.append(toggle, end);
    tr.append(...cells);
    return tr;
  }

  /** One staff action, then the list again (it shows what the server now holds). */
  private async act(path: string, method: "POST" | "PUT", body: unknown, done: string): Promise<void> {
    try {
      await this.api.request(method, `/api/tenants/${this.t}${path}`, body);
      this.status(done);
    } catch (e) {
      this.error(e instanceof ApiError && e.code === "forbidden" ? A.forbidden : A.failed("The change", codeOf(e)));
    }
    await this.loadStaff();
  }

  private async invite(): Promise<void> {
    const email = byId<HTMLInputElement>("invite-email").value.trim();
    const name = byId<HTMLInputElement>("invite-name").value.trim();
    const role = byId<HTMLSelectElement>("invite-role").value;
    show(byId("invite-result"), false);
    if (email === "") {
      this.error(A.inviteNeedsEmail);
      byId("invite-email").focus();
      return;
    }
    try {
      const body: Record<string, string> = { email, role };
      if (name !== "") body.display_name = name;
      const r = await this.api.request<{ invitation_token: string; expires_at: string; staff: StaffView }>("POST", `/api/tenants/${this.t}/invitations`, body);
      byId("invite-intro").textContent = A.invited_(r.staff.email, r.expires_at);
      byId("invite-token").textContent = r.invitation_token;
      show(byId("invite-result"), true);
      byId("invite-intro").focus();
      byId<HTMLInputElement>("invite-email").value = "";
      byId<HTMLInputElement>("invite-name").value = "";
      this.status("");
      await this.loadStaff();
    } catch (e) {
      this.error(e instanceof ApiError && e.code === "conflict" ? A.inviteTaken : A.failed("The invitation", codeOf(e)));
    }
  }

  private async loadSettings(): Promise<void> {
    try {
      const s = await this.api.request<TenantSettings>("GET", `/api/tenants/${this.t}/settings`);
      this.settings = s;
      byId<HTMLInputElement>("set-2fa").checked = s.require_second_factor;
      byId<HTMLInputElement>("set-retention").value = String(s.retention_days);
      byId<HTMLInputElement>("set-idle").value = String(s.session_idle_minutes);
      byId<HTMLInputElement>("set-absolute").value = String(s.session_absolute_hours);
    } catch (e) {
      this.error(A.failed("Loading the settings", codeOf(e)));
    }
  }

  private async saveSettings(): Promise<void> {
    if (this.settings === undefined) return;
    const num = (id: string, min: number, max: number): number | undefined => {
      const input = byId<HTMLInputElement>(id);
      const v = Number(input.value);
      const ok = input.value.trim() !== "" && Number.isInteger(v) && v >= min && v <= max;
      if (ok) input.removeAttribute("aria-invalid");
      else input.setAttribute("aria-invalid", "true");
      return ok ? v : undefined;
    };
    const retention = num("set-retention", 1, 3650);
    const idle = num("set-idle", 5, 1440);
    const absolute = num("set-absolute", 1, 720);
    if (retention === undefined || idle === undefined || absolute === undefined) {
      this.error(A.settingsRange);
      byId("settings-form").querySelector<HTMLInputElement>("[aria-invalid=true]")?.focus();
      return;
    }
    // The lists this page does not edit go back as they were.
    const next: TenantSettings = {
      ...this.settings,
      require_second_factor: byId<HTMLInputElement>("set-2fa").checked,
      retention_days: retention,
      session_idle_minutes: idle,
      session_absolute_hours: absolute,
    };
    try {
      this.settings = await this.api.request<TenantSettings>("PUT", `/api/tenants/${this.t}/settings`, next);
      this.status(A.settingsSaved);
    } catch (e) {
      this.error(e instanceof ApiError && e.code === "invalid_input" ? A.invalid(e.message) : A.failed("Saving the settings", codeOf(e)));
    }
  }
}
