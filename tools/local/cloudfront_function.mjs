// Runs a CloudFront Function here: node evaluates the function's code once, then answers one viewer-request
// event per line of stdin (JSON) with the function's result on one line of stdout (JSON).
// Used by tools/local/edge.py (the local edge) and the function's tests.
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

const code = readFileSync(process.argv[2], "utf-8");
const handler = new Function(`${code}\nreturn handler;`)();
for await (const line of createInterface({ input: process.stdin })) {
  let answer;
  try {
    answer = { result: handler(JSON.parse(line)) };
  } catch (error) {
    answer = { error: String(error && error.stack ? error.stack : error) };
  }
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
