// Runs after `next build` (`npm run build`): marks every browser chunk for eager compilation with V8's
// explicit compile hint. Chromium (136+) then compiles a chunk's functions on a background thread while it
// streams in, instead of one by one on the main thread when they are first called during hydration.
// Turbopack has no banner option, hence a step after the build. Idempotent; other browsers ignore a comment.
// (Browser source maps are off in next.config.mjs; with them on, their line offsets would move by one.)
import { readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HINT = Buffer.from("//# allFunctionsCalledOnLoad\n");
const chunks = join(dirname(fileURLToPath(import.meta.url)), "../.next/static/chunks");

let marked = 0;
for (const entry of readdirSync(chunks, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith(".js")) continue;
  const file = join(entry.parentPath, entry.name);
  const code = readFileSync(file);
  if (code.subarray(0, HINT.length).equals(HINT)) continue;
  // The hint must be the script's first line; a temp file and a rename so a served chunk is never half written.
  writeFileSync(`${file}.tmp`, Buffer.concat([HINT, code]));
  renameSync(`${file}.tmp`, file);
  marked++;
}
console.log(`compile hints: ${marked} chunk(s) marked for eager compilation`);
