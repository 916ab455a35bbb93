import { spawn } from "node:child_process";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { BEST, captureApplyRequest, cli, PRODUCTION, registryDir, resetProduction, sha, stateFile } from "./accounts";

test.use({ storageState: stateFile("releaser") });
test.afterAll(() => resetProduction());

/** Runs the CLI without waiting for the others: the races are real processes. */
function cliAsync(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((done) => {
    const child = spawn("node", [join(process.cwd(), "cli", "bin.mjs"), ...args, "--root", registryDir(), "--json"], {
      env: { ...process.env, DATABASE_URL: `file:${join(process.env.E2E_DIR ?? "/tmp", "audit.db")}` },
    });
    let stdout = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.on("exit", (code) => done({ code, stdout }));
  });
}

test("20 promotions and rollbacks at once, from CLI processes and HTTP requests: serialised, all logged, consistent", async ({
  page,
  baseURL,
}) => {
  test.setTimeout(120_000);
  resetProduction();
  const eventsBefore = JSON.parse(cli("audit", "list", "--json", "--limit", "1").stdout).total as number;

  // One real apply request from the browser, captured and replayed ten times over HTTP.
  const sent = await captureApplyRequest(page, "race");

  const versions = [
    "candidate_logreg_20250709T120000Z",
    "candidate_logreg_20251007T110000Z",
    "candidate_logreg_20250422T163000Z",
    BEST,
    PRODUCTION,
  ];
  const cliRuns = Array.from({ length: 10 }, (_, i) => {
    const v = versions[i % versions.length] as string;
    return i % 2
      ? cliAsync(["rollback", "--to", v, "--reason", `race ${i}`, "--actor", `cli-${i}`])
      : cliAsync([
          "promote",
          "--version",
          v,
          "--min-score",
          "0",
          "--override",
          "no_degradation",
          "--reason",
          `race ${i}`,
          "--actor",
          `cli-${i}`,
        ]);
  });
  const httpRuns = Array.from({ length: 10 }, () =>
    sent.replay(baseURL as string).then(async (r) => (await r.text()).split("\n").find((l) => l.startsWith("1:")) ?? ""),
  );
  const [cliResults, httpResults] = await Promise.all([Promise.all(cliRuns), Promise.all(httpRuns)]);

  const cliDone = cliResults.filter((r) => {
    const out = JSON.parse(r.stdout || "{}");
    return r.code === 0 && (out.promoted === true || out.rolledBack === true);
  }).length;
  const httpDone = httpResults.filter((l) => l.includes('"status":"done"')).length;
  // Everyone got an answer: done, nothing to do, or told that production changed under them.
  for (const r of cliResults) expect([0, 3]).toContain(r.code);
  for (const l of httpResults) expect(l).toMatch(/"status":"(done|noop)"|production_changed|source_changed/);

  const log = JSON.parse(cli("audit", "list", "--json", "--limit", "500").stdout);
  // Only the changes' own events: summaries of refusals counted earlier can land at any time.
  const fresh = (log.events as { seq: number; outcome: string; action: string }[]).filter(
    (e) => e.seq > eventsBefore && e.action.startsWith("model."),
  );
  const terminal = fresh.filter((e) => e.outcome !== "intent");
  expect(terminal).toHaveLength(20);
  expect(fresh.filter((e) => e.outcome === "succeeded")).toHaveLength(cliDone + httpDone);
  expect(fresh.filter((e) => e.outcome === "intent")).toHaveLength(cliDone + httpDone);
  expect(cliDone + httpDone).toBeGreaterThanOrEqual(1);
  expect(JSON.parse(cli("audit", "verify", "--json").stdout)).toMatchObject({ ok: true });

  const listed = JSON.parse(cli("list", "--json").stdout);
  expect(listed.production.state).toBe("ok");
  expect(sha("models/production_latest.joblib")).toBe(sha(`models/${listed.production.stem}.joblib`));
  expect(sha("metrics/production_latest.json")).toBe(sha(`metrics/${listed.production.stem}.json`));
});
