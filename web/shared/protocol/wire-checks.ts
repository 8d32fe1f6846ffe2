// Compile-time checks (no runtime code) that the wire types the clients keep different from
// generated.ts still agree with it. `tsc --noEmit` fails on a line below when sealdesk-proto
// changes in a way a client would get wrong. Everything else in types.ts is the generated
// type itself, or derived from it.
//
// The direction of each check follows the data: what the server sends must fit the client's
// type (Generated extends Hand, and every field the client reads still exists); what the
// client sends must be accepted by the server (Hand extends Generated).

import type * as G from "./generated.js";
import type { ClientFrame, WidgetConfig } from "./types.js";

/** Fails to compile unless `T` is `true`. */
type Assert<T extends true> = T;
/** `true` when every `A` is a `B` (not distributed over unions). */
type Extends<A, B> = [A] extends [B] ? true : false;
/** `true` when every field `Hand` names is one of `Generated`'s: a renamed or removed field fails. */
type KnownFields<Hand, Generated> = [Exclude<keyof Hand, keyof Generated>] extends [never] ? true : false;
/** A type the client reads: the server's values fit it, and it reads no field the server lacks. */
type Received<Generated, Hand> = Extends<Generated, Hand> extends true ? KnownFields<Hand, Generated> : false;

export type WireChecks = [
  // The widget also accepts a config without the newer fields (an older server).
  Assert<Received<G.WidgetConfig, WidgetConfig>>,
  // Clients send `send` frames of the kinds they may write only; every frame they build is one
  // the server decodes.
  Assert<Extends<ClientFrame, G.ClientFrame>>,
];
