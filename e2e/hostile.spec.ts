import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { BEST, captureApplyRequest, cli, resetProduction, stateFile } from "./accounts";

// Hostile input through every door the browser offers: URLs and server-action payloads.
test.use({ storageState: stateFile("releaser") });

const TRAVERSALS = [
  "../../etc/passwd",
  "..\\..\\windows\\win.ini",
  "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
  "%252e%252e%252f",
  "/etc/passwd",
  "candidate_logreg_20250305T101000Z\u0000.joblib",
  "candidate_logreg_20250305T101000Z\n",
  "\uff0e\uff0e\uff0fcandidate_logreg_20250305T101000Z",
  "production_latest",
];

test("version names with traversal in the URL give a 404, and the server keeps serving", async ({ page }) => {
  for (const name of TRAVERSALS) {
    const res = await page.request.get(`/versions/${encodeURIComponent(name)}`);
    expect(res.status(), name).toBe(404);
  }
  expect((await page.request.get("/")).status()).toBe(200);
});

test("server-action payloads with hostile version names or oversized bodies are refused, audited, and change nothing", async ({
  page,
  baseURL,
}) => {
  resetProduction();
  const sent = await captureApplyRequest(page, "probe");
  const post = (body: Buffer) => sent.replay(baseURL as string, { body });
  const alias = () => readFileSync(`${process.env.E2E_DIR}/registry/models/production_latest.joblib`);
  const before = alias();
  const rejectedBefore = JSON.parse(cli("audit", "list", "--action", "request.rejected", "--json").stdout).total as number;

  for (const name of TRAVERSALS) {
    const body = Buffer.from(
      sent.body.toString("latin1").replace(`\r\n\r\n${BEST}\r\n`, `\r\n\r\n${Buffer.from(name, "utf8").toString("latin1")}\r\n`),
      "latin1",
    );
    expect(body.equals(sent.body), "the version field was replaced").toBe(false);
    const text = await (await post(body)).text();
    expect(text, name).toContain("Some fields need attention");
  }
  // A body far past any form's size: refused before it reaches our code.
  const huge = await post(Buffer.concat([sent.body, Buffer.alloc(3 * 1024 * 1024, 0x41)]));
  expect(huge.ok && (await huge.text()).includes('"status":"done"')).toBe(false);

  expect(alias()).toEqual(before);
  expect((await page.request.get("/")).status()).toBe(200);
  const rejected = JSON.parse(cli("audit", "list", "--action", "request.rejected", "--json").stdout).total as number;
  expect(rejected - rejectedBefore).toBe(TRAVERSALS.length);
  expect(JSON.parse(cli("audit", "verify", "--json").stdout)).toMatchObject({ ok: true });
});
