// Writes shared/seal/vectors.ts.json, the TS-made cross vectors that the Rust test
// crates/sealdesk-mls/tests/web_vectors.rs opens (`npm run vectors:write`; commit the result).
import { writeFileSync } from "node:fs";
import { buildVectors } from "./vectors.js";

const path = new URL("./vectors.ts.json", import.meta.url);
writeFileSync(path, `${JSON.stringify(await buildVectors(), null, 2)}\n`);
console.log(`wrote ${path.pathname}`);
