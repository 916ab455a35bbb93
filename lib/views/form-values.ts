import { isSecretName } from "@/lib/secret-names";

/**
 * What a form may show again after a server-side error. React 19 resets a form once its action returns, so
 * an action hands back what was typed and the form uses it as defaultValue. Never anything secret: a field
 * whose name looks like a password, confirmation, token or key (lib/secret-names.ts) is left out, whatever the schema says.
 */
export type KeptValues = Record<string, string | string[]>;

const MAX_FIELDS = 40;
const MAX_LENGTH = 10_000;

/** The non-secret text fields of a submission (FormData or a parsed object), bounded; `secret` names more to leave out. Pure. */
export function keptValues(input: FormData | Record<string, unknown>, secret: ReadonlySet<string> = new Set()): KeptValues {
  const entries: [string, unknown][] =
    input instanceof FormData ? [...new Set(input.keys())].map((k) => [k, input.getAll(k)]) : Object.entries(input);
  const out: KeptValues = {};
  for (const [key, value] of entries.slice(0, MAX_FIELDS)) {
    if (key.startsWith("$ACTION") || isSecretName(key) || secret.has(key)) continue;
    const texts = (Array.isArray(value) ? value : [value])
      .filter((v): v is string => typeof v === "string")
      .map((v) => v.slice(0, MAX_LENGTH));
    if (texts.length) out[key] = texts.length === 1 ? texts[0]! : texts;
  }
  return out;
}

/** The first kept value of a field, for an input's defaultValue. Pure. */
export function kept(values: KeptValues | undefined, name: string): string | undefined {
  const v = values?.[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Every kept value of a repeated field (checkboxes), for defaultChecked. Pure. */
export function keptAll(values: KeptValues | undefined, name: string): string[] {
  const v = values?.[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}
