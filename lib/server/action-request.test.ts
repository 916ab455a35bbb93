import { describe, expect, it } from "vitest";
import { ACTION_BODY_LIMIT, actionIdOf, checkActionRequest, foreignOrigin, isActionRequest, MalformedRequest } from "./action-request";

const ID = `7f${"2e".repeat(20)}`;
const headers = (h: Record<string, string>) => (name: string) => h[name] ?? null;
const text = (s: string) => new TextEncoder().encode(s);

async function multipart(entries: [string, string | Blob][]): Promise<{ contentType: string; body: Uint8Array }> {
  const form = new FormData();
  for (const [k, v] of entries) form.append(k, v);
  const req = new Request("http://x/", { method: "POST", body: form });
  return { contentType: req.headers.get("content-type") as string, body: new Uint8Array(await req.arrayBuffer()) };
}

async function verdict(h: Record<string, string>, body: Uint8Array): Promise<number | "ok"> {
  try {
    await checkActionRequest(headers(h), body);
    return "ok";
  } catch (e) {
    if (e instanceof MalformedRequest) return e.status;
    throw e;
  }
}

describe("foreignOrigin", () => {
  it("is null for the same host, and for a request without Origin (no browser sent it)", () => {
    expect(foreignOrigin(headers({ origin: "http://127.0.0.1:3000", host: "127.0.0.1:3000" }))).toBeNull();
    expect(foreignOrigin(headers({ origin: "https://reg.example", host: "10.0.0.5:3000", "x-forwarded-host": "reg.example" }))).toBeNull();
    expect(foreignOrigin(headers({ host: "127.0.0.1:3000" }))).toBeNull();
  });

  it("names another host, another port of the same host, an opaque origin and junk", () => {
    const host = { host: "127.0.0.1:3000" };
    expect(foreignOrigin(headers({ ...host, origin: "http://evil.example" }))).toBe("http://evil.example");
    expect(foreignOrigin(headers({ ...host, origin: "http://127.0.0.1:1" }))).toBe("http://127.0.0.1:1");
    expect(foreignOrigin(headers({ ...host, origin: "http://127.0.0.1.evil.example:3000" }))).toBe("http://127.0.0.1.evil.example:3000");
    expect(foreignOrigin(headers({ ...host, origin: "null" }))).toBe("null");
    expect(foreignOrigin(headers({ ...host, origin: "::not a url::" }))).toBe("(unreadable)");
    expect(foreignOrigin(headers({ origin: "http://127.0.0.1:3000" }))).toBe("http://127.0.0.1:3000");
    expect(foreignOrigin(headers({ ...host, origin: `http://${"a".repeat(5000)}.example` }))?.length).toBe(200);
  });
});

describe("isActionRequest and actionIdOf", () => {
  it("recognise fetch calls and forms posted without JavaScript, and only well-formed ids", () => {
    expect(isActionRequest("POST", headers({ "next-action": "x" }))).toBe(true);
    expect(isActionRequest("POST", headers({ "content-type": "multipart/form-data; boundary=a" }))).toBe(true);
    expect(isActionRequest("POST", headers({ "content-type": "application/json" }))).toBe(false);
    expect(isActionRequest("GET", headers({ "next-action": ID }))).toBe(false);
    expect(actionIdOf(headers({ "next-action": ID }))).toBe(ID);
    expect(actionIdOf(headers({ "next-action": ID.toUpperCase() }))).toBeNull();
    expect(actionIdOf(headers({ "next-action": `${ID}0` }))).toBeNull();
  });
});

describe("checkActionRequest", () => {
  const fetchCall = { "next-action": ID, "content-type": "text/plain;charset=UTF-8" };

  it("passes what our pages send: text argument lists and the forms' multipart bodies", async () => {
    expect(await verdict(fetchCall, text('["$undefined",{}]'))).toBe("ok");
    expect(
      await verdict(fetchCall, text('[{"ok":false,"error":"x","fieldErrors":{"reason":["$$5 is not a reason"]}},{"kind":"promote"}]')),
    ).toBe("ok");
    expect(await verdict(fetchCall, text('["$D2026-01-01T00:00:00.000Z","$n123","$NaN","$-0","$T"]'))).toBe("ok");
    const form = await multipart([
      ["_1_$ACTION_REF_1", ""],
      ["_1_$ACTION_1:0", `{"id":"${ID}","bound":"$@1"}`],
      ["_1_username", "releaser"],
      ["0", '[null,"$K1"]'],
    ]);
    expect(await verdict({ "next-action": ID, "content-type": form.contentType }, form.body)).toBe("ok");
    const nested = await multipart([
      ["0", '["$@1","$Q2","$B3"]'],
      ["1", '{"a":"$@1"}'],
      ["2", "[]"],
      ["3", new Blob(["bytes"])],
    ]);
    expect(await verdict({ "next-action": ID, "content-type": nested.contentType }, nested.body)).toBe("ok");
  });

  it("refuses ids, content types and bodies our pages never send, with 400", async () => {
    const cases: [Record<string, string>, Uint8Array][] = [
      [{ ...fetchCall, "next-action": "garbage" }, text("[]")],
      [{ ...fetchCall, "content-type": "application/json" }, text("[]")],
      [{ "next-action": ID }, text("[]")],
      [fetchCall, text("{{{garbage")],
      [fetchCall, text('{"a":1}')],
      [fetchCall, text('["$Q99"]')],
      [fetchCall, text('["$R1"]')],
      [fetchCall, text('["$h1"]')],
      [fetchCall, text('["$n12x"]')],
      [fetchCall, text(`${"[".repeat(5000)}${"]".repeat(5000)}`)],
      [fetchCall, new Uint8Array([0x5b, 0x22, 0xff, 0x22, 0x5d])],
      [{ ...fetchCall, "content-type": "multipart/form-data; boundary=xx" }, text("nonsense")],
      [{ ...fetchCall, "content-type": "multipart/form-data" }, text("nonsense")],
    ];
    for (const [h, body] of cases)
      expect(await verdict(h, body), `${JSON.stringify(h)} ${new TextDecoder().decode(body).slice(0, 40)}`).toBe(400);

    const missing = await multipart([["0", '["$undefined","$@5"]']]);
    expect(await verdict({ "next-action": ID, "content-type": missing.contentType }, missing.body)).toBe(400);
    const noRoot = await multipart([["1", "[]"]]);
    expect(await verdict({ "next-action": ID, "content-type": noRoot.contentType }, noRoot.body)).toBe(400);
    const fileAsValue = await multipart([
      ["0", '["$@1"]'],
      ["1", new Blob(["[]"])],
    ]);
    expect(await verdict({ "next-action": ID, "content-type": fileAsValue.contentType }, fileAsValue.body)).toBe(400);
    const cycle = await multipart([
      ["0", '["$@1"]'],
      ["1", '["$@2"]'],
      ["2", '["$@1"]'],
    ]);
    expect(await verdict({ "next-action": ID, "content-type": cycle.contentType }, cycle.body)).toBe("ok");
    const wide = await multipart(Array.from({ length: 1001 }, (_, i) => [`k${i}`, "v"] as [string, string]));
    expect(await verdict({ "next-action": ID, "content-type": wide.contentType }, wide.body)).toBe(400);
  });

  it("refuses a body over Next's limit with 413, before parsing it", async () => {
    expect(await verdict(fetchCall, new Uint8Array(ACTION_BODY_LIMIT + 1))).toBe(413);
  });

  it("checks a form posted without JavaScript only for what Next would choke on", async () => {
    const good = await multipart([[`$ACTION_ID_${ID}`, ""]]);
    expect(await verdict({ "content-type": good.contentType }, good.body)).toBe("ok");
    const bad = await multipart([["$ACTION_ID_garbage", ""]]);
    expect(await verdict({ "content-type": bad.contentType }, bad.body)).toBe(400);
    expect(await verdict({ "content-type": "multipart/form-data; boundary=zz" }, text("nonsense"))).toBe(400);
  });
});
