import { copyFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { cli, registryDir } from "./accounts";

// Names that cannot be a version: malformed URLs, and files on disk whose stem is markup.

test("malformed percent-encoding in a version URL is a 404 page, never a server error", async ({ page }) => {
  for (const path of ["/versions/%ff", "/versions/%", "/versions/%E0%A4%A", "/versions/abc%ff_20250101T000000Z"]) {
    const res = await page.goto(path);
    expect(res?.status(), path).toBe(404);
    await expect(page.getByRole("heading", { level: 1 }), path).toHaveText(/not found/i);
  }
  const compare = await page.goto("/compare?v=%ff&v=candidate_logreg_20250305T101000Z");
  expect(compare?.status()).toBe(200);
  await expect(page.getByRole("columnheader", { name: /candidate_logreg_20250305T101000Z/ })).toBeVisible();
});

const MARKUP = "<img src=x onerror=alert(1)>_20250607T000000Z";

test("a model file named with markup is a bad_name problem shown as text, not a version with a dead link", async ({ page }) => {
  const model = join(registryDir(), "models", `${MARKUP}.joblib`);
  const metrics = join(registryDir(), "metrics", `${MARKUP}.json`);
  let alerted = false;
  page.on("dialog", async (d) => {
    alerted = true;
    await d.dismiss();
  });
  try {
    copyFileSync(join(registryDir(), "models", "baseline_logreg_20250114T091500Z.joblib"), model);
    writeFileSync(metrics, '{"metrics": {"pr_auc": 0.99}}');

    await page.goto("/");
    const problem = page.getByTestId("problem").filter({ hasText: `models/${MARKUP}.joblib` });
    await expect(problem).toHaveCount(1);
    await expect(problem).toContainText(/letters, digits/);
    await expect(page.getByTestId("problem").filter({ hasText: `metrics/${MARKUP}.json` })).toHaveCount(1);
    // Never a version: not in the table, not the best, and no element was made from the name.
    await expect(page.locator("tr[data-stem]").filter({ hasText: "onerror" })).toHaveCount(0);
    await expect(page.locator("img[src='x']")).toHaveCount(0);
    expect(alerted).toBe(false);

    const listed = JSON.parse(cli("list", "--json").stdout) as {
      best: string | null;
      versions: { stem: string }[];
      problems: { file: string; reason: string }[];
    };
    expect(listed.versions.map((v) => v.stem)).not.toContain(MARKUP);
    expect(listed.best).not.toBe(MARKUP);
    expect(listed.problems).toContainEqual(expect.objectContaining({ file: `models/${MARKUP}.joblib`, reason: "bad_name" }));

    // Its URL, however it is written, is a 404 page, not an error.
    expect((await page.goto(`/versions/${encodeURIComponent(MARKUP)}`))?.status()).toBe(404);
  } finally {
    rmSync(model, { force: true });
    rmSync(metrics, { force: true });
  }
});

test("every version the table lists opens from its link", async ({ page }) => {
  await page.goto("/");
  const stems = await page.locator("tr[data-stem]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-stem") as string));
  expect(stems.length).toBeGreaterThan(3);
  for (const stem of stems) {
    const href = await page.locator(`tr[data-stem="${stem}"]`).getByRole("link", { name: stem }).getAttribute("href");
    expect(href).toBe(`/versions/${encodeURIComponent(stem)}`);
    const res = await page.request.get(href as string);
    expect(res.status(), stem).toBe(200);
  }
});
