// Builds dist/: the ES module with its type declarations, and the minified script for a <script> tag
// (global `UbaTracker`), whose gzip size `scripts/size.mjs` holds to the budget. `--bundles` skips the
// declarations (the page tests need only the script).
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { build } from "esbuild";

rmSync("dist", { recursive: true, force: true });
const common = { entryPoints: ["src/index.ts"], bundle: true, target: "es2019", legalComments: "none" };
await build({ ...common, format: "esm", outfile: "dist/index.js" });
await build({ ...common, format: "iife", globalName: "UbaTracker", minify: true, outfile: "dist/uba-tracker.min.js" });
if (!process.argv.includes("--bundles")) {
  execFileSync("node", ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" });
}
