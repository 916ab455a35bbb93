import { afterEach, describe, expect, it } from "vitest";
import { main } from "./main";
import { describeChange, serverUrl } from "./remote";

// What `registry --server` decides before any request leaves: where a token may be sent, which commands and
// flags apply remotely, and the exit codes of each refusal (the round trips against a real server are in
// e2e/api.spec.ts).

async function run(args: string[], token?: string) {
  if (token === undefined) delete process.env.REGISTRY_TOKEN;
  else process.env.REGISTRY_TOKEN = token;
  let json: Record<string, unknown> = {};
  const code = await main(args, {
    json: false,
    print: () => {},
    printJson: (v) => {
      json = v as Record<string, unknown>;
    },
  });
  return { code, json };
}
afterEach(() => {
  delete process.env.REGISTRY_TOKEN;
});

describe("registry --server", () => {
  it("sends a token over https, or plain http to this machine only", () => {
    expect(serverUrl("https://registry.example.com").origin).toBe("https://registry.example.com");
    expect(serverUrl("http://127.0.0.1:3000").port).toBe("3000");
    expect(serverUrl("http://localhost:3000").hostname).toBe("localhost");
    for (const bad of ["http://registry.example.com", "http://127.0.0.1.example.com", "ftp://x", "registry.example.com", "file:///etc"]) {
      expect(() => serverUrl(bad), bad).toThrow(/https|not a URL/);
    }
  });

  it("refuses before any request: no token (exit 4), plain http (2), --root, a command the API does not cover (2)", async () => {
    const t = `mrt_${"a".repeat(43)}`;
    expect(await run(["--server", "https://127.0.0.1:9", "list", "--json"])).toMatchObject({
      code: 4,
      json: { error: { code: "unauthenticated" } },
    });
    expect((await run(["--server", "http://registry.example.com", "list", "--json"], t)).code).toBe(2);
    expect((await run(["list", "--server=https://127.0.0.1:9", "--root", "/tmp", "--json"], t)).code).toBe(2);
    expect((await run(["--server", "https://127.0.0.1:9", "users", "list", "--json"], t)).code).toBe(2);
    expect((await run(["--server", "https://127.0.0.1:9", "promote", "--actor", "me", "--json"], t)).code).toBe(2);
    expect((await run(["--server", "--json", "list"], t)).code).toBe(2);
  });

  it("says when the server cannot be reached (exit 1)", async () => {
    // Port 9 (discard) on this machine: nothing listens there.
    const r = await run(["--server", "http://127.0.0.1:9", "list", "--json"], `mrt_${"a".repeat(43)}`);
    expect(r).toMatchObject({ code: 1, json: { error: { code: "unreachable" } } });
  });

  it("describes a change in the local command's words", () => {
    const base = {
      kind: "promote",
      from: "a_20250101T000000Z",
      to: "b_20250101T000000Z",
      dryRun: false,
      noop: false,
      refusal: null,
      checks: [],
    };
    expect(describeChange({ ...base, refused: false, requested: false })).toMatch(/Promoted b_20250101T000000Z/);
    expect(describeChange({ ...base, refused: false, requested: true, requestId: 4, expiresAt: "2026-01-02T00:00:00Z" })).toMatch(
      /Request #4 filed/,
    );
    expect(describeChange({ ...base, refused: true, requested: false, refusal: "min_score failed" })).toMatch(/min_score failed/);
  });
});
