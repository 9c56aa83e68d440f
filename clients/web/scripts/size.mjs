// The size budget: the minified bundle must stay under 5 KB gzip. Prints the measured size.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const BUDGET = 5 * 1024;
const file = "dist/uba-tracker.min.js";
const raw = readFileSync(file);
const gzipped = gzipSync(raw, { level: 9 }).length;
console.log(`${file}: ${raw.length} bytes minified, ${gzipped} bytes gzip (budget ${BUDGET})`);
if (gzipped >= BUDGET) {
  console.error(`over the size budget by ${gzipped - BUDGET + 1} bytes`);
  process.exit(1);
}
