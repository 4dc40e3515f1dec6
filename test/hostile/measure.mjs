// Runs the aescore command line in this process, as `node dist/src/cli/main.js ARGS…` does, and on exit
// writes the process's peak resident set size (kB, process.resourceUsage().maxRSS) to the file
// named by $AESCORE_RSS_FILE. The exit code is main's; an uncaught error exits as the CLI would.
// (Plain JavaScript beside the sources, so tsc does not compile it and uvu never loads it.)

import { writeFileSync } from "node:fs";

const report = process.env.AESCORE_RSS_FILE;
process.on("exit", () => {
  if (report) writeFileSync(report, String(process.resourceUsage().maxRSS));
});

const { main } = await import(new URL("../../dist/src/cli/main.js", import.meta.url).href);
main(process.argv.slice(2)).then((code) => process.exit(code));
