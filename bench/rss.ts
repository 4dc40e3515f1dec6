// `node dist/bench/rss.js SECTION CONFIG [--quick]`: runs one configuration of a bench section (one
// epoch, see TRAINING_CONFIGS and FINETUNE_CONFIGS) alone in this process and prints its peak resident
// set size as JSON, so the bench can measure each configuration's memory without the others'. An
// empty CONFIG runs nothing: the cost of Node and the bench's modules.

import { readFileSync } from "node:fs";
import { TRAINING_CONFIGS } from "./training.js";
import { FINETUNE_CONFIGS } from "./finetune.js";

/**
 * The high-water resident set of this process, KiB. On Linux VmHWM, not getrusage's maxRSS: a child
 * spawned by fork inherits its parent's resident size at the fork as a floor of maxRSS (kept across
 * exec), so the bench's own size would leak into every child's figure.
 */
function peakKb(): number {
  try {
    const m = /^VmHWM:\s*(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]);
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS;
}

const SECTIONS: Record<string, Record<string, (quick: boolean) => Promise<void>>> = { training: TRAINING_CONFIGS, finetune: FINETUNE_CONFIGS };

const [section, config] = process.argv.slice(2);
const configs = SECTIONS[section];
if (!configs || config === undefined || (config !== "" && !(config in configs))) {
  console.error(`usage: rss.js <${Object.keys(SECTIONS).join("|")}> <configuration> [--quick]; configurations: ${Object.entries(SECTIONS).map(([s, c]) => `${s}: ${Object.keys(c).map((k) => JSON.stringify(k)).join(", ")}`).join("; ")}`);
  process.exit(2);
}
if (config !== "") await configs[config](process.argv.includes("--quick"));
console.log(JSON.stringify({ section, config, peakRssKb: peakKb() }));
process.exit(0); // a peer's handles must not keep the child alive
