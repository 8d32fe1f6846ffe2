// The console polls the server every few seconds, and every request moves the session's idle
// expiry: left alone, an open tab would never time out. So the page itself ends the session
// after the tenant's idle limit without any input from the person (OWASP ASVS v5.0.0-7.3.1,
// inactivity timeout; the server's limit is measured at sign-in and kept for the tab).

const KEY = "sealdesk-console-idle-ms";
const CHECK_MS = 10_000;
const INPUT = ["keydown", "pointerdown", "pointermove", "wheel", "touchstart"] as const;

/** Records the idle limit of a fresh session (`idle_expires_at` just after sign-in). */
export function rememberIdleLimit(idleExpiresAt: string | null | undefined): void {
  if (idleExpiresAt === null || idleExpiresAt === undefined) {
    sessionStorage.removeItem(KEY);
    return;
  }
  const ms = Date.parse(idleExpiresAt) - Date.now();
  // Whole minutes, as tenants configure it (the server writes the expiry at most once a minute).
  if (ms > 0) sessionStorage.setItem(KEY, String(Math.max(60_000, Math.round(ms / 60_000) * 60_000)));
}

/** Calls `onIdle` once after the remembered limit passes without input; returns a stopper. */
export function watchIdle(onIdle: () => void): () => void {
  const limit = Number(sessionStorage.getItem(KEY) ?? "NaN");
  if (!Number.isFinite(limit) || limit <= 0) return () => undefined;
  let last = Date.now();
  const bump = (): void => {
    last = Date.now();
  };
  for (const ev of INPUT) document.addEventListener(ev, bump, { capture: true, passive: true });
  const stop = (): void => {
    window.clearInterval(timer);
    for (const ev of INPUT) document.removeEventListener(ev, bump, { capture: true });
  };
  const timer = window.setInterval(() => {
    if (Date.now() - last < limit) return;
    stop();
    onIdle();
  }, CHECK_MS);
  return stop;
}
