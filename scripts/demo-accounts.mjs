// Creates one demo account per role for `npm run demo` (only when no account exists yet) and prints how to sign in.
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const bin = join(import.meta.dirname, "..", "cli", "bin.mjs");
const list = spawnSync("node", [bin, "users", "list", "--json"], { encoding: "utf8" });
if (list.status !== 0) {
  process.stderr.write(list.stderr);
  process.exit(1);
}
const existing = JSON.parse(list.stdout).users;
const DEMO = [
  ["admin", "admin", "manages accounts"],
  ["release-manager", "releaser", "promotes and rolls back"],
  ["data-scientist", "viewer", "reads everything but the audit export"],
  ["auditor", "auditor", "reads, exports and verifies the audit log"],
];
if (existing.length === 0) {
  for (const [name, role] of DEMO) {
    const r = spawnSync("node", [bin, "users", "add", name, "--role", role, "--password-stdin"], {
      input: `${name}-demo`,
      encoding: "utf8",
    });
    if (r.status !== 0) {
      process.stderr.write(r.stderr);
      process.exit(1);
    }
  }
  console.log('\nDemo accounts (password = username + "-demo"; change them before real use):');
  for (const [name, role, what] of DEMO) console.log(`  ${name.padEnd(16)} ${`${name}-demo`.padEnd(21)} ${role.padEnd(9)} ${what}`);
} else {
  console.log(
    `\n${existing.length} account(s) exist already: ${existing.map((u) => u.username).join(", ")}. Demo passwords are username + "-demo".`,
  );
}
