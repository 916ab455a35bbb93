import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { acmeModelBytes } from "../lib/inspect/test-support/pickle-builder";
import { BEST, cli, registryDir, stateFile } from "./accounts";

// A team ships a pipeline with its own transformer class. An admin trusts that exact class on /admin/settings;
// the version page then says it is trusted by registry policy, by whom and when; taking it off the list makes
// the version unsafe again on the next page. Names that run code cannot be trusted by anyone.
test.use({ storageState: stateFile("admin") });

const STEM = "candidate_acme_20251204T080000Z";
const model = join(registryDir(), "models", `${STEM}.joblib`);
const metrics = join(registryDir(), "metrics", `${STEM}.json`);

test.beforeAll(() => {
  const bytes = acmeModelBytes();
  writeFileSync(model, bytes);
  const doc = JSON.parse(readFileSync(join(registryDir(), "metrics", `${BEST}.json`), "utf8"));
  writeFileSync(metrics, JSON.stringify({ ...doc, artifact: `${STEM}.joblib`, metrics: { ...doc.metrics, roc_auc: 0.51 } }));
});

test.afterAll(() => {
  rmSync(model, { force: true });
  rmSync(metrics, { force: true });
  cli("trust", "remove", "acme_features.Winsorizer", "--reason", "e2e clean-up");
  cli("tokens", "revoke", "trust-e2e");
});

/** Whether the artifact_safe check passed, in a list of checks as the API answers it. */
function safeCheck(checks: { name: string; passed: boolean }[]): boolean | undefined {
  return checks.find((c) => c.name === "artifact_safe")?.passed;
}

async function inspection(page: Page) {
  await page.goto(`/versions/${STEM}`);
  return page.getByRole("region", { name: "Model file inspection" });
}

test("an admin trusts an in-house class, the version page says by whom, and removing it makes the version unsafe again", async ({
  page,
}) => {
  let card = await inspection(page);
  await expect(card.getByText("Unsafe", { exact: true })).toBeVisible();
  await expect(card.getByRole("row", { name: /acme_features Winsorizer unknown/ })).toBeVisible();

  await page.goto("/admin/settings");
  const add = page.getByRole("form", { name: "Trust a class" });
  await add.getByLabel("Module and name").fill("acme_features.Winsorizer");
  await add.getByLabel("Why").fill("our clipping transformer, reviewed in PR 412");
  await add.getByRole("button", { name: "Trust" }).click();
  await expect(add.getByRole("status")).toHaveText("Trusted acme_features.Winsorizer.");
  await expect(page.getByRole("row", { name: /acme_features\.Winsorizer admin/ })).toBeVisible();

  card = await inspection(page);
  await expect(card.getByText("Safe", { exact: true })).toBeVisible();
  await expect(card.getByTestId("trusted-by")).toHaveText(/^trusted by registry policy \(by admin, \d{4}-\d\d-\d\d \d\d:\d\d UTC\)$/);

  // The HTTP API plans with the same trust list as the page and the CLI: a pipeline's dry run agrees.
  const made = cli("tokens", "create", "--name", "trust-e2e", "--role", "releaser", "--expires", "1d", "--json");
  expect(made.status, made.stderr).toBe(0);
  const headers = { authorization: `Bearer ${JSON.parse(made.stdout).token}` };
  const shown = await page.request.get(`/api/v1/versions/${STEM}`, { headers });
  expect(shown.status()).toBe(200);
  expect(safeCheck((await shown.json()).checks)).toBe(true);
  const dry = await page.request.post("/api/v1/promotions", { headers, data: { version: STEM, dryRun: true, reason: "trust e2e" } });
  expect(safeCheck((await dry.json()).checks)).toBe(true);

  await page.goto("/admin/settings");
  const remove = page.getByRole("form", { name: "Stop trusting acme_features.Winsorizer" });
  await remove.getByLabel("Why stop trusting acme_features.Winsorizer").fill("replaced by sklearn's own");
  await remove.getByRole("button", { name: "Remove" }).click();
  await expect(page.getByText("Nothing is trusted beyond the built-in allowlist.")).toBeVisible();

  card = await inspection(page);
  await expect(card.getByText("Unsafe", { exact: true })).toBeVisible();
  await expect(card.getByTestId("trusted-by")).toHaveCount(0);

  const events = JSON.parse(cli("audit", "list", "--json", "--limit", "20").stdout).events as {
    action: string;
    actor: string;
    reason: string;
  }[];
  const trust = events.filter((e) => e.action.startsWith("trust.")).reverse();
  expect(trust.map((e) => [e.action, e.actor])).toEqual([
    ["trust.added", "admin"],
    ["trust.removed", "admin"],
  ]);
});

test("nobody can trust a name that runs code, and the refusal is audited", async ({ page }) => {
  await page.goto("/admin/settings");
  const add = page.getByRole("form", { name: "Trust a class" });
  await add.getByLabel("Module and name").fill("os.system");
  await add.getByLabel("Why").fill("the model needs it");
  await add.getByRole("button", { name: "Trust" }).click();
  await expect(add.getByRole("status")).toContainText("deny list");
  await expect(page.getByText("Nothing is trusted beyond the built-in allowlist.")).toBeVisible();
  const refused = JSON.parse(cli("audit", "list", "--json", "--action", "trust.change_refused").stdout).events as { actor: string }[];
  expect(refused.map((e) => e.actor)).toContain("admin");
});

test("a viewer cannot open the settings page", async ({ browser }) => {
  const context = await browser.newContext({ storageState: stateFile("viewer") });
  const page = await context.newPage();
  await page.goto("/admin/settings");
  await expect(page.getByRole("heading", { name: "Registry settings" })).toHaveCount(0);
  await context.close();
});
