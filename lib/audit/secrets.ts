import { z } from "zod";
import { isSecretName } from "@/lib/secret-names";

/**
 * What a secret is, and how a refused or failed request is described without one. A secret (a password,
 * a token, a webhook secret) never reaches the audit log, a log line or an error message. A field is
 * secret when its schema is marked with `secret()`, or, as a safety net for a schema someone forgot to
 * mark, when its name says so (`password`, `confirm`, `token`, `secret`, `apiKey`…).
 */
export const secretFields = z.registry<{ secret: true }>();

/** Marks a field's schema as holding a secret and returns it: `password: secret(z.string().min(10))`. */
export function secret<T extends z.ZodType>(schema: T): T {
  secretFields.add(schema, { secret: true });
  return schema;
}

type Def = {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  options?: z.ZodType[];
  left?: z.ZodType;
  right?: z.ZodType;
  element?: z.ZodType;
  shape?: Record<string, z.ZodType>;
};
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The schemas a schema wraps (optional, pipe, union…), so a mark survives `.optional()` and friends. */
function wrapped(s: z.ZodType): z.ZodType[] {
  const d = defOf(s);
  return [d.innerType, d.in, d.out, d.left, d.right, d.element, ...(d.options ?? [])].filter((x): x is z.ZodType => x !== undefined);
}

function someWithin(s: z.ZodType, test: (s: z.ZodType) => boolean, depth = 0): boolean {
  return test(s) || (depth < 12 && wrapped(s).some((w) => someWithin(w, test, depth + 1)));
}

/** The object shapes a form schema validates (through refinements, transforms and unions). */
function shapesOf(s: z.ZodType, depth = 0): Record<string, z.ZodType>[] {
  const d = defOf(s);
  if (d.type === "object" && d.shape) return [d.shape];
  if (depth > 12 || d.type === "array") return [];
  return wrapped(s).flatMap((w) => shapesOf(w, depth + 1));
}

/** The field names a schema declares, sorted. Pure. */
export function schemaFieldNames(schema: z.ZodType): string[] {
  return [...new Set(shapesOf(schema).flatMap((shape) => Object.keys(shape)))].sort();
}

/** The declared fields that hold secrets: marked with `secret()` or named like one. Pure. */
export function secretFieldNames(schema: z.ZodType): Set<string> {
  const out = new Set<string>();
  for (const shape of shapesOf(schema)) {
    for (const [name, field] of Object.entries(shape)) {
      if (isSecretName(name) || someWithin(field, (f) => secretFields.has(f))) out.add(name);
    }
  }
  return out;
}

/** The strings the sender supplied in the fields named (every field when `names` is omitted), nested ones too. */
export function sentStrings(input: Record<string, unknown>, names?: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const walk = (v: unknown, depth: number) => {
    if (typeof v === "string") out.push(v);
    else if (typeof v === "number" || typeof v === "bigint") out.push(String(v));
    else if (v && typeof v === "object" && depth < 8) for (const x of Object.values(v)) walk(x, depth + 1);
  };
  for (const [k, v] of Object.entries(input)) if (!names || names.has(k) || isSecretName(k)) walk(v, 0);
  return out;
}

// Shorter values cannot be told apart from ordinary words in a message, and hold no secret worth the name.
const MIN_ECHO = 3;
// A message may quote a value cut short or escaped: any run of this many of its characters counts.
const WINDOW = 8;

/** True when `text` quotes any of `values` in whole or (for long values) any 8-character run of one. Pure. */
export function echoes(text: string, values: readonly string[]): boolean {
  const long = values.filter((v) => v.length > WINDOW).join("\u0000");
  if (long) for (let i = 0; i + WINDOW <= text.length; i++) if (long.includes(text.slice(i, i + WINDOW))) return true;
  return values.some((v) => v.length >= MIN_ECHO && v.length <= WINDOW && text.includes(v));
}

/** Replaces every occurrence of the values in `text`; withholds the whole text if a part of one remains. Pure. */
export function redactText(text: string, values: readonly string[]): string {
  let out = text;
  for (const v of [...values].filter((x) => x.length >= MIN_ECHO).sort((a, b) => b.length - a.length)) out = out.split(v).join("[secret]");
  return echoes(out, values) ? "[withheld: it quoted part of a secret value]" : out;
}

// What a message says when its own words would quote what was sent: by kind of problem, in our words.
const GENERIC: Record<string, string> = {
  invalid_type: "Wrong type of value.",
  too_small: "Too short or too small.",
  too_big: "Too long or too big.",
  invalid_format: "Not in the expected format.",
  invalid_value: "Not one of the allowed values.",
  not_multiple_of: "Not an allowed step.",
  unrecognized_keys: "Unknown fields were sent.",
  invalid_union: "Not any of the accepted forms.",
  invalid_key: "A key is not valid.",
  invalid_element: "An element is not valid.",
};

// A refusal is a few lines of evidence, whatever was sent: a thousand bad entries make the same few messages.
const MAX_MESSAGE = 300;
const MAX_MESSAGES = 5;

export interface RejectionSummary {
  /** The declared fields that were sent, sorted. Never their values. */
  fields: string[];
  /** How many sent fields the schema does not declare (their names are the sender's words: not kept). */
  unknownFields?: number;
  /** Messages per declared field; a message that would quote a value is replaced by a generic one. */
  fieldErrors: Record<string, string[]>;
  /** Messages about the input as a whole, likewise. */
  formErrors?: string[];
}

/**
 * Describes refused input by field names and validation messages only: no value, and no message that
 * would quote one of `quoted` (a custom refinement may put the input in its message). Pure.
 */
export function describeIssues(
  schema: z.ZodType,
  input: Record<string, unknown>,
  error: z.ZodError,
  quoted: readonly string[],
): RejectionSummary {
  const declared = new Set(schemaFieldNames(schema));
  const unknownKeys = Object.keys(input).filter((k) => !declared.has(k));
  const avoid = [...quoted, ...unknownKeys];
  const fieldErrors: Record<string, string[]> = {};
  const formErrors: string[] = [];
  for (const issue of error.issues) {
    const own = issue.message && issue.message.length <= MAX_MESSAGE && !echoes(issue.message, avoid);
    const message = own ? issue.message : (GENERIC[issue.code] ?? "Not a valid value.");
    const field = issue.path[0];
    const onField = typeof field === "string" && declared.has(field);
    const list = onField ? (fieldErrors[field] ?? []) : formErrors;
    if (!list.includes(message) && list.length < MAX_MESSAGES) list.push(message);
    if (onField) fieldErrors[field] = list;
  }
  return {
    fields: Object.keys(input)
      .filter((k) => declared.has(k))
      .sort(),
    ...(unknownKeys.length ? { unknownFields: unknownKeys.length } : {}),
    fieldErrors,
    ...(formErrors.length ? { formErrors } : {}),
  };
}

/**
 * An error as one log line: its stack and its causes, with every value in `secrets` taken out (a handler's
 * error may quote its input, and a failing query may quote the row it was writing). Pure.
 */
export function errorForLog(e: unknown, secrets: readonly string[]): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let depth = 0; cur !== undefined && cur !== null && depth < 4; depth++) {
    const code = (cur as { code?: unknown }).code;
    parts.push(
      cur instanceof Error
        ? `${cur.stack ?? `${cur.name}: ${cur.message}`}${typeof code === "string" ? ` (code ${code})` : ""}`
        : String(cur),
    );
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return redactText(parts.join("\nCaused by: "), secrets);
}

export { isSecretName };
