import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { PRODUCTION, registryDir, resetProduction, sha, stateFile } from "./accounts";
import { actionId, chainRows, chainRowsOf, eventsAfter, flood, headSeq, postAction, refusalsAccountedFor } from "./raw-requests";

// Server-action requests that are not what our own pages send: from another origin (a CSRF attempt), or
// malformed. They get a 4xx that says which, never a 500; the cross-origin ones are audited without
// letting a flood of them bury the log.

const APPLY = () => actionId("applyChange");
const releaserCookie = () => {
  const c = JSON.parse(readFileSync(stateFile("releaser"), "utf8")).cookies.find((x: { name: string }) => x.name === "registry_session");
  return `registry_session=${c.value}`;
};
const aliasBytes = () => readFileSync(`${registryDir()}/models/production_latest.joblib`);

test.describe("from another origin", () => {
  const ORIGINS = ["http://evil.example", "http://127.0.0.1:1", "null", "https://127.0.0.1.evil.example"];

  test("answer 403, are audited with the origin they came from, and change nothing, even with a releaser's cookie", async ({ baseURL }) => {
    resetProduction();
    const before = aliasBytes();
    const seq = headSeq();
    for (const origin of ORIGINS) {
      const res = await postAction(baseURL as string, APPLY(), { headers: { origin, cookie: releaserCookie() } });
      expect(res.status, origin).toBe(403);
      const text = await res.text();
      expect(text).not.toContain("digest");
      expect(text.length).toBeLessThan(500);
    }
    // The form a page without JavaScript would post, from another origin.
    const form = new FormData();
    form.set(`$ACTION_ID_${APPLY()}`, "");
    const mpa = await fetch(`${baseURL}/`, {
      method: "POST",
      body: form,
      headers: { origin: "http://evil.example", cookie: releaserCookie() },
    });
    expect(mpa.status).toBe(403);

    expect(aliasBytes()).toEqual(before);
    expect(sha("models/production_latest.joblib")).toBe(sha(`models/${PRODUCTION}.joblib`));
    const refused = eventsAfter(seq).filter((e) => e.action === "request.cross_origin");
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(refused[0]?.details ?? "{}")).toMatchObject({ origin: "http://evil.example", path: "/" });
  });

  test("a flood of 200 is counted in full but adds a few rows", async ({ baseURL }) => {
    const rowsBefore = chainRows();
    const ownBefore = chainRowsOf("request.cross_origin", "anonymous", "server-action");
    const countedBefore = refusalsAccountedFor("request.cross_origin", "anonymous", "server-action");
    const statuses = await flood(200, 20, () => postAction(baseURL as string, APPLY(), { headers: { origin: "http://evil.example" } }));
    expect(new Set(statuses)).toEqual(new Set([403]));
    expect(chainRowsOf("request.cross_origin", "anonymous", "server-action") - ownBefore).toBeLessThanOrEqual(4);
    expect(chainRows() - rowsBefore).toBeLessThanOrEqual(20);
    expect(refusalsAccountedFor("request.cross_origin", "anonymous", "server-action") - countedBefore).toBe(200);
  });
});

test.describe("malformed", () => {
  const CASES: [string, Parameters<typeof postAction>[2] & { id?: string }][] = [
    ["an action id that is not one", { id: "garbage" }],
    ["a body that is not JSON", { body: "{{{garbage" }],
    ["a reference to a part that was never sent", { body: '["$Q99"]' }],
    ["a reference to a stream", { body: '["$R1"]' }],
    ["a bigint that is not a number", { body: '["$n12x"]' }],
    ["a JSON body that is not an argument list", { body: '{"a":1}' }],
    ["nesting far deeper than any form", { body: `${"[".repeat(5000)}${"]".repeat(5000)}` }],
    ["a multipart body that is not multipart", { contentType: "multipart/form-data; boundary=xx", body: "nonsense" }],
    ["multipart without its boundary", { contentType: "multipart/form-data", body: "nonsense" }],
    ["no content type", { contentType: null, body: "x" }],
  ];

  for (const [what, opts] of CASES) {
    test(`${what}: 400, and the server keeps serving`, async ({ baseURL }) => {
      const rows = chainRows();
      const res = await postAction(baseURL as string, opts.id ?? APPLY(), opts);
      expect(res.status).toBe(400);
      const text = await res.text();
      expect(text).not.toContain("digest");
      expect(text).not.toContain("garbage");
      expect(chainRows()).toBe(rows);
    });
  }

  test("a multipart body referring to a part it does not have: 400", async ({ baseURL }) => {
    const form = new FormData();
    form.set("0", '["$undefined","$@5"]');
    const res = await fetch(`${baseURL}/`, { method: "POST", body: form, headers: { "next-action": APPLY() } });
    expect(res.status).toBe(400);
  });

  test("a well-formed request still reaches the action (and is refused there for want of a session)", async ({ baseURL }) => {
    const form = new FormData();
    form.set("0", '["$undefined","$K1"]');
    form.set("1_reason", "x");
    const res = await fetch(`${baseURL}/`, { method: "POST", body: form, headers: { "next-action": APPLY(), accept: "text/x-component" } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Sign in first");
  });
});
