// Screenshots for the README, taken from the running demo so they stay current:
//   npm run demo            (in another terminal; serves http://localhost:3000)
//   node scripts/screenshots.mjs [base-url]
// Signs in as the demo's release manager, then writes docs/overview.png (the overview at 1440 px) and
// docs/release-dialog.png (the preview of "Promote best"). Nothing is promoted: the dialog is only opened.
// SCREENSHOT_USER / SCREENSHOT_PASSWORD choose another account; CHROMIUM_PATH another browser.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "@playwright/test";

const base = (process.argv[2] ?? process.env.BASE_URL ?? "http://127.0.0.1:3000").replace(/\/$/, "");
const user = process.env.SCREENSHOT_USER ?? "release-manager";
const password = process.env.SCREENSHOT_PASSWORD ?? `${user}-demo`;
const out = join(import.meta.dirname, "..", "docs");
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
});
try {
  const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 })).newPage();
  await page.goto(`${base}/login`);
  await page.getByLabel("Username").fill(user);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((u) => !u.pathname.startsWith("/login"));

  await page.goto(`${base}/`);
  // What a person waits for: the charts drawn and the table's controls live.
  await page.locator(".chart-points circle").first().waitFor();
  await page.getByRole("button", { name: "Promote best" }).waitFor();
  await page.screenshot({ path: join(out, "overview.png"), fullPage: true });

  // Tall enough for the whole dialog to show without its own scrolling.
  await page.setViewportSize({ width: 1440, height: 1500 });
  await page.getByRole("button", { name: "Promote best" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("table", { name: "Readiness checks" }).waitFor();
  await dialog.getByLabel(/Reason for this change/).fill("Weekly release: best PR-AUC");
  await dialog.screenshot({ path: join(out, "release-dialog.png") });
  console.log(`wrote ${join(out, "overview.png")} and ${join(out, "release-dialog.png")}`);
} finally {
  await browser.close();
}
