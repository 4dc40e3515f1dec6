// Regenerates test/golden.json (in the source tree) from the current build:
//   npm run build && node dist/test/golden-update.js
// A deliberate change updates golden.json in the same commit, with the reason in the message.
// Writes nothing when merely imported (uvu's file pattern "golden" matches this file too).

import { writeFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as lib from "../src/index.js";
import { goldenDigests, JS_MATH, type Digests } from "./golden.js";

/** golden.json in the source tree: dist/test/golden-update.js → ../../test/golden.json. */
export const GOLDEN_PATH = fileURLToPath(new URL("../../test/golden.json", import.meta.url));

export function goldenFile(digests: Digests): string {
  const lines = Object.entries(digests).map(([key, d]) => `    ${JSON.stringify(key)}: ${JSON.stringify(d)}`);
  return [
    "{",
    `  "about": "SHA-256 of the little-endian bytes of seeded results (test/golden.ts). A deliberate change updates this file in the same commit, with the reason in the message.",`,
    `  "jsMath": ${JSON.stringify(JS_MATH)},`,
    `  "digests": {`,
    lines.join(",\n"),
    "  }",
    "}",
    "",
  ].join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const scalar = await goldenDigests(lib, { backend: "scalar" });
  const digests = await goldenDigests(lib, { backend: "auto" });
  const a = JSON.stringify(scalar);
  if (a !== JSON.stringify(digests)) throw new Error("golden-update: the SIMD and scalar builds disagree; not writing golden.json");
  writeFileSync(GOLDEN_PATH, goldenFile(digests));
  console.log(`golden-update: ${Object.keys(digests).length} digests written to ${GOLDEN_PATH}`);
}
