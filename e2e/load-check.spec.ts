import { execFileSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { BEST, cli, PRODUCTION, registryDir, stateFile } from "./accounts";

// "The model loads and predicts", as a release manager meets it: a version page never loads a model while it
// renders; it says "not checked yet", a releaser starts the check, sees it running, then its result with what
// the sandbox saw. The promotion preview shows the check's progress instead of sitting silent. An admin can
// switch the check off on /admin/settings, and a check that did not run then reads amber, never green.
test.describe.configure({ mode: "serial" });

const PAGE_STEM = "candidate_logreg_20261206T020000Z";
const DIALOG_STEM = "candidate_logreg_20261206T030000Z";

/** A new version: production's model saved again with a note (new bytes, same classes and columns) and the best's metrics. */
function addVersion(stem: string): void {
  execFileSync("/usr/bin/python3", [
    "-c",
    "import joblib, sys\nd = joblib.load(sys.argv[1])\nd['note'] = sys.argv[3]\njoblib.dump(d, sys.argv[2])",
    join(registryDir(), "models", `${PRODUCTION}.joblib`),
    join(registryDir(), "models", `${stem}.joblib`),
    stem,
  ]);
  const doc = JSON.parse(readFileSync(join(registryDir(), "metrics", `${BEST}.json`), "utf8"));
  writeFileSync(join(registryDir(), "metrics", `${stem}.json`), JSON.stringify({ ...doc, artifact: `${stem}.joblib` }));
}

test.beforeAll(() => {
  addVersion(PAGE_STEM);
  addVersion(DIALOG_STEM);
});
test.afterAll(() => {
  for (const stem of [PAGE_STEM, DIALOG_STEM]) {
    rmSync(join(registryDir(), "models", `${stem}.joblib`), { force: true });
    rmSync(join(registryDir(), "metrics", `${stem}.json`), { force: true });
  }
});

const loadCheck = (page: Page) => page.locator('li[data-check="loads_and_predicts"]');

test.describe("a viewer", () => {
  test.use({ storageState: stateFile("viewer") });

  test("sees 'not checked yet' and no button: opening the page starts nothing", async ({ page }) => {
    await page.goto(`/versions/${PAGE_STEM}`);
    await expect(page.getByTestId("load-check-unchecked")).toContainText("Not checked yet");
    await expect(page.getByText("A release manager can start it")).toBeVisible();
    await expect(page.getByRole("button", { name: "Load and predict in the sandbox" })).toHaveCount(0);
    await expect(loadCheck(page)).toHaveCount(0);
  });
});

test.describe("a release manager", () => {
  test.use({ storageState: stateFile("releaser") });

  test("starts the check on a version page, sees it running, then passing with what the sandbox saw", async ({ page }) => {
    await page.goto(`/versions/${PAGE_STEM}`);
    await expect(page.getByTestId("load-check-unchecked")).toContainText("Not checked yet");
    await page.getByRole("button", { name: "Load and predict in the sandbox" }).click();
    await expect(page.getByTestId("load-check-running")).toContainText(/Loading the model in the sandbox… \d+\.\d s \/ limit \d+ s/);
    await expect(loadCheck(page).locator(".badge")).toHaveText("✓ Passed", { timeout: 60_000 });
    const facts = loadCheck(page).getByTestId("load-check-facts");
    await expect(facts).toContainText("scikit-learn 1.2.1");
    await expect(facts).toContainText(/5×2 in \[0\.\d{4}, [01]\.\d{4}\]/);
    await expect(page.getByTestId("load-check-panel")).toHaveCount(0);
    // Answered once for these bytes: the next visit shows the result at once.
    await page.reload();
    await expect(loadCheck(page).locator(".badge")).toHaveText("✓ Passed");
  });

  test("the promotion preview shows the check's progress, then its result, before anything can be confirmed", async ({ page }) => {
    await page.goto(`/versions/${DIALOG_STEM}`);
    await page.getByRole("button", { name: "Promote", exact: true }).click();
    const dialog = page.getByRole("dialog");
    await expect(dialog.getByTestId("load-check-running")).toContainText(/Loading the model in the sandbox… \d+\.\d s \/ limit \d+ s/);
    await expect(dialog.getByRole("button", { name: "Waiting for the load check…" })).toBeDisabled();
    await expect(dialog.locator('tr[data-check="loads_and_predicts"]')).toContainText("pass", { timeout: 60_000 });
    await expect(dialog.locator('tr[data-check="loads_and_predicts"]')).toContainText("scikit-learn 1.2.1");
    await expect(dialog.getByRole("button", { name: "Confirm promotion" })).toBeEnabled();
    await dialog.getByRole("button", { name: "Cancel" }).click();
  });
});

test.describe("an admin", () => {
  test.use({ storageState: stateFile("admin") });

  test("switches the check off: a check that did not run reads amber, and the change is audited", async ({ page, browser }) => {
    await page.goto("/admin/settings");
    const form = page.getByRole("form", { name: "Load-and-predict check" });
    await form.getByLabel("Load-and-predict check").selectOption("off");
    await form.getByRole("button", { name: "Save" }).click();
    await expect(form.getByRole("status")).toHaveText("Saved: the change is in the audit log.");
    await expect(page.getByTestId("load-check-mode")).toHaveText("off");
    try {
      const releaser = await browser.newPage({ storageState: stateFile("releaser") });
      await releaser.goto(`/versions/${PAGE_STEM}`);
      const row = loadCheck(releaser);
      await expect(row.locator(".badge")).toHaveText("! Not run");
      await expect(row.locator(".badge")).toHaveClass(/badge-warn/);
      await expect(row).toContainText("Not run: switched off in the registry settings");
      await releaser.close();
      const events = JSON.parse(cli("audit", "list", "--json", "--limit", "20").stdout).events as { action: string; reason: string }[];
      expect(events.find((e) => e.action === "settings.changed")?.reason).toContain("Load-and-predict check");
    } finally {
      await page.goto("/admin/settings");
      await form.getByLabel("Load-and-predict check").selectOption("on");
      await form.getByRole("button", { name: "Save" }).click();
      await expect(page.getByTestId("load-check-mode")).toHaveText("on (not run does not block)");
    }
  });
});
