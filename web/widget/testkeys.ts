// Test helper: a tenant key hierarchy made in TypeScript (root → issuing → devices), for the
// widget's unit tests of its credential checks.
import { generateKeyPackage, type KeyPackageBundle } from "../shared/mls/adapter.js";
import { encodeChain, signCertificate, type Role, type TrustAnchor } from "../shared/mls/certs.js";
import { signAnnouncement } from "../shared/seal/announcement.js";
import { toBase64 } from "../shared/util/bytes.js";
import { ed25519PublicKey } from "../shared/util/ed25519.js";

const seed = (): Uint8Array => crypto.getRandomValues(new Uint8Array(32));
const DAY = 86_400n;

export class TestHierarchy {
  private constructor(
    readonly tenant: Uint8Array,
    readonly root: Uint8Array,
    private readonly issuing: Uint8Array,
    private readonly issuingCert: Uint8Array,
  ) {}

  static async create(tenant: Uint8Array = crypto.getRandomValues(new Uint8Array(16))): Promise<TestHierarchy> {
    const root = seed();
    const issuing = seed();
    const now = BigInt(Math.floor(Date.now() / 1000));
    const cert = await signCertificate({
      role: "issuing", tenant, team: new Uint8Array(16), subject: await ed25519PublicKey(issuing),
      notBefore: now - DAY, notAfter: now + 365n * DAY, label: "Test issuing key",
    }, root);
    return new TestHierarchy(tenant, root, issuing, cert);
  }

  async anchor(): Promise<TrustAnchor> {
    return { tenant: this.tenant, roots: [await ed25519PublicKey(this.root)] };
  }

  /** A device key this hierarchy certified: its Ed25519 seed and its chain. */
  async device(role: Exclude<Role, "issuing">, label: string, team = new Uint8Array(16)): Promise<{ seed: Uint8Array; chain: Uint8Array }> {
    const device = seed();
    const now = BigInt(Math.floor(Date.now() / 1000));
    const cert = await signCertificate({
      role, tenant: this.tenant, team, subject: await ed25519PublicKey(device),
      notBefore: now - DAY, notAfter: now + 100n * DAY, label,
    }, this.issuing);
    return { seed: device, chain: encodeChain(cert, this.issuingCert) };
  }

  /** A team (or archive) key announcement under this hierarchy's issuing key, base64. */
  async announce(kind: "team" | "archive", team: Uint8Array, version: number, publicKey: Uint8Array): Promise<string> {
    const created = BigInt(Math.floor(Date.now() / 1000));
    return toBase64(await signAnnouncement({ kind, tenant: this.tenant, team, version, publicKey, created }, this.issuingCert, this.issuing));
  }

  /** A key package signed by a device key this hierarchy certified. */
  async keyPackage(role: Exclude<Role, "issuing">, label: string, team = new Uint8Array(16)): Promise<KeyPackageBundle> {
    const { seed: device, chain } = await this.device(role, label, team);
    return generateKeyPackage(chain, role === "history" ? "history" : "device", device);
  }
}
