// Bundles each test file (with the source it imports) for node's own test runner.
import { readdirSync, rmSync } from "node:fs";
import { build } from "esbuild";

rmSync("build", { recursive: true, force: true });
const tests = readdirSync("test").filter((name) => name.endsWith(".test.ts"));
await build({
  entryPoints: tests.map((name) => `test/${name}`),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outdir: "build/test",
  outExtension: { ".js": ".mjs" },
});
