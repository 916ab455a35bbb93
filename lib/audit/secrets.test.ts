import { describe, expect, it } from "vitest";
import { z } from "zod";
import { describeIssues, echoes, errorForLog, redactText, schemaFieldNames, secret, secretFieldNames, sentStrings } from "./secrets";

describe("what is secret", () => {
  it("finds a secret() mark through optional, refinements, transforms, unions and extend", () => {
    const hook = secret(z.string().min(3));
    const base = z.object({ name: z.string(), hook: hook.optional(), key: secret(z.string()).transform((s) => s.trim()) });
    const wrapped = base
      .extend({ other: z.string(), either: z.union([z.number(), secret(z.string())]) })
      .superRefine(() => undefined)
      .transform((v) => v);
    expect(schemaFieldNames(wrapped)).toEqual(["either", "hook", "key", "name", "other"]);
    expect([...secretFieldNames(wrapped)].sort()).toEqual(["either", "hook", "key"]);
  });

  it("treats fields named like secrets as secret even when nobody marked them", () => {
    const s = z.object({ password: z.string(), confirm: z.string(), apiKey: z.string(), webhook_secret: z.string(), note: z.string() });
    expect([...secretFieldNames(s)].sort()).toEqual(["apiKey", "confirm", "password", "webhook_secret"]);
  });

  it("collects what was sent in secret fields, nested values and secret-named extras included", () => {
    const raw = { password: ["a1", "b2b2"], note: "plain", token: { deep: ["t0k3n"] }, n: 7 };
    expect(sentStrings(raw, new Set(["password"])).sort()).toEqual(["a1", "b2b2", "t0k3n"]);
    expect(sentStrings(raw).sort()).toEqual(["7", "a1", "b2b2", "plain", "t0k3n"]);
  });
});

describe("messages that would quote what was sent", () => {
  it("spots a value quoted whole, cut short, or escaped", () => {
    const value = 'correct "horse" battery staple';
    expect(echoes(`"${value}" is wrong`, [value])).toBe(true);
    expect(echoes(`${JSON.stringify(value).slice(0, 14)}… is wrong`, [value])).toBe(true);
    expect(echoes("At least 10 characters.", [value])).toBe(false);
    expect(echoes("Choose one of: pear, fig.", ["fig"])).toBe(true);
    // Too short to be told from ordinary words, and no secret worth the name.
    expect(echoes("Choose at least one role.", ["at"])).toBe(false);
  });

  it("takes secrets out of a text, and withholds the text when only a part of one would remain", () => {
    expect(redactText("refused s3cr3t-value twice: s3cr3t-value", ["s3cr3t-value"])).toBe("refused [secret] twice: [secret]");
    expect(redactText("refused s3cr3t-va…", ["s3cr3t-value-long"])).toMatch(/^\[withheld/);
    expect(redactText("nothing here", ["s3cr3t-value"])).toBe("nothing here");
  });

  it("logs an error's stack and causes without the secret", () => {
    const e = new Error("upstream refused hunter2-hunter2", { cause: new Error("because of hunter2-hunter2") });
    const line = errorForLog(e, ["hunter2-hunter2"]);
    expect(line).toContain("upstream refused [secret]");
    expect(line).toContain("Caused by: Error: because of [secret]");
    expect(line).toContain("secrets.test.ts");
    expect(line).not.toContain("hunter2");
  });

  it("describes refused input by declared field names and messages, replacing any message that quotes a value", () => {
    const s = z.strictObject({
      version: z.string().refine((v) => v.startsWith("v"), { error: (i) => `${String(i.input)} is not a version` }),
      count: z.coerce.number().int("A whole number."),
    });
    const raw = { version: "build-20260101", count: "1.5", "pasted-secret-as-a-key": "x" };
    const parsed = s.safeParse(raw);
    if (parsed.success) throw new Error("expected a refusal");
    const summary = describeIssues(s, raw, parsed.error, Object.values(raw));
    expect(summary).toEqual({
      fields: ["count", "version"],
      unknownFields: 1,
      fieldErrors: { version: ["Not a valid value."], count: ["A whole number."] },
      formErrors: ["Unknown fields were sent."],
    });
    expect(JSON.stringify(summary)).not.toMatch(/build-2026|pasted-secret/);
    // Told to the sender, only secrets are held back: their own non-secret words may come back to them.
    expect(describeIssues(s, raw, parsed.error, []).fieldErrors.version).toEqual(["build-20260101 is not a version"]);
  });

  it("keeps a refusal a few lines long whatever was sent", () => {
    const s = z.object({
      tags: z.array(
        z
          .string()
          .max(3, "Tags are short.")
          .regex(/^[a-z]+$/, "Letters only."),
      ),
    });
    const raw = { tags: Array.from({ length: 1000 }, (_, i) => `tag-number-${i}`) };
    const parsed = s.safeParse(raw);
    if (parsed.success) throw new Error("expected a refusal");
    const long = z.object({ a: z.string().refine(() => false, "x".repeat(400)) }).safeParse({ a: "" });
    if (long.success) throw new Error("expected a refusal");
    expect(describeIssues(s, raw, parsed.error, []).fieldErrors).toEqual({ tags: ["Tags are short.", "Letters only."] });
    expect(describeIssues(z.object({ a: z.string() }), { a: "" }, long.error, []).fieldErrors).toEqual({ a: ["Not a valid value."] });
    const many = z.object({
      n: z.string().superRefine((_, ctx) => {
        for (let i = 1; i <= 9; i++) ctx.addIssue({ code: "custom", message: `Problem ${i}.` });
      }),
    });
    const nine = many.safeParse({ n: "" });
    if (nine.success) throw new Error("expected a refusal");
    expect(describeIssues(many, { n: "" }, nine.error, []).fieldErrors.n).toEqual([
      "Problem 1.",
      "Problem 2.",
      "Problem 3.",
      "Problem 4.",
      "Problem 5.",
    ]);
  });
});
