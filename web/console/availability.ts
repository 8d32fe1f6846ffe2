// The agent's availability as the router sees it (GET /api/account/availability): status,
// capacity and how many conversations are assigned now, shown as "online · 2 of 5". A change
// of status or capacity is one PUT with both (the server resets a capacity left out).

import { type ConsoleApi } from "./api.js";
import { codeOf } from "./desk.js";
import { byId } from "./dom.js";
import { S } from "./strings.js";

const REFRESH_MS = 5_000;
const MAX_CAPACITY = 100;

export class AvailabilityControl {
  private timer: number | undefined;
  private capacity = 5;

  constructor(
    private readonly api: ConsoleApi,
    private readonly problem: (text: string) => void,
  ) {}

  private get select(): HTMLSelectElement {
    return byId<HTMLSelectElement>("availability");
  }

  private get input(): HTMLInputElement {
    return byId<HTMLInputElement>("capacity");
  }

  /** At the desk one is online, unless one chose away before (a reload keeps it). */
  async start(): Promise<void> {
    this.select.addEventListener("change", () => void this.save());
    this.input.addEventListener("change", () => void this.save());
    try {
      const now = await this.api.availability();
      this.capacity = now.capacity;
      this.input.value = String(now.capacity);
      this.select.value = now.availability === "away" ? "away" : "online";
      if (now.availability !== "away" && now.availability !== "online") await this.api.setAvailability("online", now.capacity);
    } catch (e) {
      this.problem(S.availabilityFailed(codeOf(e)));
    }
    await this.refresh();
    this.timer = window.setInterval(() => void this.refresh(), REFRESH_MS);
  }

  stop(): void {
    window.clearInterval(this.timer);
  }

  /** Reads back what the server routes by, after a claim, a close or a transfer too. */
  async refresh(): Promise<void> {
    try {
      const v = await this.api.availability();
      byId("availability-now").textContent = S.availabilityLine(v.availability, v.active, v.capacity);
    } catch {
      // The next tick tries again; a signed-out session is noticed by the desk.
    }
  }

  private async save(): Promise<void> {
    const status = this.select.value === "away" ? "away" : "online";
    const capacity = Number(this.input.value);
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
      this.input.setAttribute("aria-invalid", "true");
      this.input.value = String(this.capacity);
      this.problem(S.capacityInvalid);
      return;
    }
    this.input.removeAttribute("aria-invalid");
    try {
      await this.api.setAvailability(status, capacity);
      this.capacity = capacity;
      await this.refresh();
    } catch (e) {
      this.problem(S.availabilityFailed(codeOf(e)));
    }
  }
}
