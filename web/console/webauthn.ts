// Passkeys in the browser (W3C WebAuthn Level 3): the server's ceremony options (JSON, binary
// fields as base64url) turned into what navigator.credentials.create/get take, and the
// authenticator's answer back into JSON (§5.1.8 toJSON shape) for the server to verify.
// The server checks the challenge, origin and RP id; nothing here decides anything.

export class PasskeyError extends Error {
  constructor(readonly reason: "unsupported" | "cancelled") {
    super(reason);
  }
}

function fromB64url(text: string): ArrayBuffer {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out.buffer;
}

function toB64url(buf: ArrayBuffer | null): string | null {
  if (buf === null) return null;
  let bin = "";
  for (const b of new Uint8Array(buf)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

type Json = Record<string, unknown>;

function descriptors(list: unknown): PublicKeyCredentialDescriptor[] | undefined {
  if (!Array.isArray(list)) return undefined;
  return list.map((d: Json) => ({ ...(d as object), type: "public-key", id: fromB64url(String(d.id)) }));
}

function publicKeyOf(options: unknown): Json {
  const pk = (options as { publicKey?: Json } | null)?.publicKey;
  if (pk === undefined || pk === null || typeof pk.challenge !== "string") throw new Error("the server's passkey options have no challenge");
  return pk;
}

function supported(): void {
  if (typeof PublicKeyCredential === "undefined" || navigator.credentials === undefined) throw new PasskeyError("unsupported");
}

/** A user who closes the browser's passkey dialog gets NotAllowedError (§5.1.3, §5.1.4). */
function cancelled(e: unknown): never {
  if (e instanceof DOMException && (e.name === "NotAllowedError" || e.name === "AbortError")) throw new PasskeyError("cancelled");
  throw e;
}

/** Registration: `options` from `POST /api/account/passkeys/register/start`. */
export async function createPasskey(options: unknown): Promise<Json> {
  supported();
  const pk = publicKeyOf(options);
  const user = pk.user as Json;
  const publicKey = {
    ...pk,
    challenge: fromB64url(String(pk.challenge)),
    user: { ...user, id: fromB64url(String(user.id)) },
    excludeCredentials: descriptors(pk.excludeCredentials),
  } as unknown as PublicKeyCredentialCreationOptions;
  const cred = (await navigator.credentials.create({ publicKey }).catch(cancelled)) as PublicKeyCredential | null;
  if (cred === null) throw new PasskeyError("cancelled");
  const r = cred.response as AuthenticatorAttestationResponse;
  return {
    id: cred.id,
    rawId: toB64url(cred.rawId),
    type: cred.type,
    response: {
      clientDataJSON: toB64url(r.clientDataJSON),
      attestationObject: toB64url(r.attestationObject),
      transports: typeof r.getTransports === "function" ? r.getTransports() : undefined,
    },
    extensions: cred.getClientExtensionResults(),
  };
}

/** Authentication (login or re-authentication): `options` from a passkey start. */
export async function getPasskey(options: unknown): Promise<Json> {
  supported();
  const pk = publicKeyOf(options);
  const publicKey = {
    ...pk,
    challenge: fromB64url(String(pk.challenge)),
    allowCredentials: descriptors(pk.allowCredentials) ?? [],
  } as unknown as PublicKeyCredentialRequestOptions;
  // A modal request: conditional mediation (autofill) would wait for the field's focus.
  const cred = (await navigator.credentials.get({ publicKey }).catch(cancelled)) as PublicKeyCredential | null;
  if (cred === null) throw new PasskeyError("cancelled");
  const r = cred.response as AuthenticatorAssertionResponse;
  return {
    id: cred.id,
    rawId: toB64url(cred.rawId),
    type: cred.type,
    response: {
      clientDataJSON: toB64url(r.clientDataJSON),
      authenticatorData: toB64url(r.authenticatorData),
      signature: toB64url(r.signature),
      userHandle: toB64url(r.userHandle),
    },
    extensions: cred.getClientExtensionResults(),
  };
}
