import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { BEST, cli, registryDir, resetProduction, stateFile } from "./accounts";

// Someone put a folder where the production model alias goes, right after a promotion was killed mid-way.
test.use({ storageState: stateFile("releaser") });

const alias = () => join(registryDir(), "models/production_latest.joblib");
const journal = () => join(registryDir(), ".registry/journal.json");

test.afterAll(() => {
  if (existsSync(alias()) && lstatSync(alias()).isDirectory()) rmSync(alias(), { recursive: true });
  resetProduction();
});

test("a folder at the production alias, with a journal left pointing at it, never breaks a page and refuses promotions", async ({
  page,
}) => {
  resetProduction();
  // A CLI promotion killed after its intent was logged: its journal is "staged" and waits for the next start.
  const crashed = spawnSync("node", [join(process.cwd(), "cli", "bin.mjs"), "promote", "--root", registryDir()], {
    env: { ...process.env, DATABASE_URL: `file:${join(process.env.E2E_DIR ?? "/tmp", "audit.db")}`, REGISTRY_FAULT: "after_intent" },
  });
  expect(crashed.signal).toBe("SIGKILL");
  expect(existsSync(journal())).toBe(true);
  rmSync(alias());
  mkdirSync(alias());
  writeFileSync(join(alias(), "notes.txt"), "someone's files");

  // The next page load settles the journal (once, audited) and shows what is wrong and what to do.
  const overview = await page.goto("/");
  expect(overview?.status()).toBe(200);
  expect(existsSync(journal())).toBe(false);
  expect(readdirSync(join(registryDir(), "models")).filter((f) => f.startsWith(".production_latest."))).toEqual([]);
  const card = page.getByRole("region", { name: "Production" });
  await expect(card).toContainText("Alias blocked");
  await expect(card).toContainText("models/production_latest.joblib is a directory");
  await expect(card).toContainText("out of the way by hand");
  await expect(page.getByTestId("problem").filter({ hasText: "models/production_latest.joblib" })).toHaveCount(1);
  const recovered = JSON.parse(cli("audit", "list", "--limit", "1", "--json").stdout).events[0];
  expect(recovered).toMatchObject({ action: "model.promotion_failed", outcome: "failed", actor: "system" });
  expect(recovered.reason).toContain("models/production_latest.joblib is a directory");

  // Every other page still answers.
  for (const path of [`/versions/${BEST}`, "/audit", `/compare?v=${BEST}`]) {
    expect((await page.goto(path))?.status(), path).toBe(200);
  }
  await page.goto(`/versions/${BEST}`);
  await expect(page.locator("[data-check='alias_replaceable']")).toContainText("Failed");

  // Promoting from the dashboard is refused before anything is written, and says why.
  await page.goto("/");
  await page.getByRole("button", { name: "Promote best" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog.locator('tr[data-check="alias_replaceable"]')).toContainText("fail");
  await dialog.getByLabel(/Reason for this change/).fill("Weekly release");
  await dialog.getByRole("button", { name: "Submit and record the refusal" }).click();
  await expect(dialog.getByRole("status")).toContainText("Refused: alias_replaceable failed");
  expect(lstatSync(alias()).isDirectory()).toBe(true);
  expect(existsSync(journal())).toBe(false);

  // Once the folder is moved away, the card says so and promotions work again.
  rmSync(alias(), { recursive: true });
  resetProduction();
  await page.goto("/");
  await expect(card).toContainText("Alias OK");
});
