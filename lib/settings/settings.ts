import type { Actor, AuditDb } from "@/lib/audit";
import { openAudit } from "@/lib/audit/db";
import { databaseExists } from "@/lib/audit/db-file";
import { recordEvent } from "@/lib/audit/log";
import { LOAD_CHECK_MODES, type LoadCheckMode, type LoadCheckPolicy } from "@/lib/load-check/mode";
import { InvalidInputError, RegistryError } from "@/lib/registry/errors";

/**
 * Registry settings an admin may change in the dashboard. Each has an environment variable that may only
 * tighten what the admin stored: the stricter of the two applies, so a deployment that turns the two-person
 * rule on keeps it on, and a caller's own shell (the CLI reads it) cannot turn off what the admin required.
 * With nothing stored, the environment stands in for the default. A value that does not parse fails
 * closed: approvals required, no emergency window, the load check required.
 */
export const SETTING_KEYS = ["approvals", "approvalTtlHours", "emergencyRollbackMinutes", "loadCheck"] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];
/** The two-person rule's settings, edited together on /approvals. */
export const APPROVAL_SETTING_KEYS = ["approvals", "approvalTtlHours", "emergencyRollbackMinutes"] as const;

export type ApprovalsMode = "off" | "required";

export interface SettingValues {
  approvals: ApprovalsMode;
  approvalTtlHours: number;
  emergencyRollbackMinutes: number;
  loadCheck: LoadCheckMode;
}

interface Definition<K extends SettingKey> {
  env: string;
  label: string;
  /** What applies with nothing set. */
  fallback: SettingValues[K];
  /** What applies when a set value does not parse: the strict choice. */
  failClosed: SettingValues[K];
  /** The typed value, or an explanation of what is accepted. */
  parse(text: string): { ok: true; value: SettingValues[K] } | { ok: false; expected: string };
  show(value: SettingValues[K]): string;
  /** How strict a value is: higher is stricter (the environment may only raise it). */
  strictness(value: SettingValues[K]): number;
}

function wholeNumber(min: number, max: number, unit: string) {
  return (text: string): { ok: true; value: number } | { ok: false; expected: string } => {
    const t = text.trim();
    const n = Number(t);
    return /^\d{1,6}$/.test(t) && n >= min && n <= max
      ? { ok: true, value: n }
      : { ok: false, expected: `a whole number of ${unit} from ${min} to ${max}` };
  };
}

export const SETTINGS: { [K in SettingKey]: Definition<K> } = {
  approvals: {
    env: "REGISTRY_APPROVALS",
    label: "Two-person rule",
    fallback: "off",
    failClosed: "required",
    parse: (text) => {
      const t = text.trim().toLowerCase();
      return t === "off" || t === "required" ? { ok: true, value: t } : { ok: false, expected: '"off" or "required"' };
    },
    show: (v) => v,
    strictness: (v) => (v === "required" ? 1 : 0),
  },
  approvalTtlHours: {
    env: "REGISTRY_APPROVAL_TTL_HOURS",
    label: "Requests expire after (hours)",
    fallback: 24,
    failClosed: 24,
    parse: wholeNumber(1, 720, "hours"),
    show: (v) => `${v} h`,
    // A request that expires sooner is stricter.
    strictness: (v) => -v,
  },
  emergencyRollbackMinutes: {
    env: "REGISTRY_EMERGENCY_ROLLBACK_MINUTES",
    label: "Emergency rollback window (minutes, 0 = none)",
    fallback: 60,
    failClosed: 0,
    parse: wholeNumber(0, 1440, "minutes"),
    show: (v) => (v === 0 ? "off" : `${v} min`),
    // A shorter window skips approval for less long.
    strictness: (v) => -v,
  },
  loadCheck: {
    env: "REGISTRY_LOAD_CHECK",
    label: "Load-and-predict check",
    fallback: "on",
    failClosed: "required",
    parse: (text) => {
      const t = text.trim().toLowerCase();
      return (LOAD_CHECK_MODES as readonly string[]).includes(t)
        ? { ok: true, value: t as LoadCheckMode }
        : { ok: false, expected: '"off", "on" or "required"' };
    },
    show: (v) => (v === "on" ? "on (not run does not block)" : v === "required" ? "required (not run blocks)" : "off"),
    strictness: (v) => LOAD_CHECK_MODES.indexOf(v),
  },
};

export interface Effective<T> {
  value: T;
  /** Where the value comes from: the environment (at least as strict as the stored value), the dashboard's setting, or neither. */
  source: "env" | "database" | "default";
  /** A set value that did not parse, and what applies instead. */
  problem: string | null;
  /** An environment value looser than the stored setting, which therefore does not apply. */
  ignored: string | null;
  updatedAt: string | null;
  updatedBy: string | null;
}

export type Settings = { [K in SettingKey]: Effective<SettingValues[K]> };

/** A setting the environment pins cannot be changed from the dashboard. */
export class SettingPinnedError extends RegistryError {
  override readonly code = "setting_pinned";
  override readonly exitCode = 3;
}

type Env = Record<string, string | undefined>;

/**
 * The settings in force. Each is the stricter of its environment variable and the value stored from the
 * dashboard; with nothing stored, the environment when set, else the default. Reads only.
 */
export async function readSettings(db: AuditDb, env: Env = process.env): Promise<Settings> {
  const rows = await db.setting.findMany({ where: { key: { in: [...SETTING_KEYS] } } });
  const stored = new Map(rows.map((r) => [r.key, r]));
  const out = {} as Record<SettingKey, Effective<unknown>>;
  for (const key of SETTING_KEYS) {
    const def = SETTINGS[key] as Definition<SettingKey>;
    const row = stored.get(key);
    const fromEnv = envValue(def, env);
    const fromDb = row
      ? resolved(def, row.value, "database", `the stored value "${row.value.slice(0, 40)}"`, row.updatedAt, row.updatedBy)
      : null;
    if (fromEnv && fromDb && def.strictness(fromDb.value) > def.strictness(fromEnv.value)) {
      const ignored = `${def.env}=${def.show(fromEnv.value)} is ignored: the environment may only tighten the registry's setting (${def.show(fromDb.value)}).`;
      out[key] = { ...fromDb, ignored };
    } else {
      out[key] = fromEnv ?? fromDb ?? byDefault(def);
    }
  }
  return out as Settings;
}

function byDefault<K extends SettingKey>(def: Definition<K>): Effective<SettingValues[K]> {
  return { value: def.fallback, source: "default", problem: null, ignored: null, updatedAt: null, updatedBy: null };
}

function envValue<K extends SettingKey>(def: Definition<K>, env: Env): Effective<SettingValues[K]> | null {
  const text = env[def.env];
  return text === undefined || text === "" ? null : resolved(def, text, "env", `${def.env}="${text.slice(0, 40)}"`, null, null);
}

function resolved<K extends SettingKey>(
  def: Definition<K>,
  text: string,
  source: "env" | "database",
  what: string,
  updatedAt: string | null,
  updatedBy: string | null,
): Effective<SettingValues[K]> {
  const parsed = def.parse(text);
  if (parsed.ok) return { value: parsed.value, source, problem: null, ignored: null, updatedAt, updatedBy };
  return {
    value: def.failClosed,
    source,
    problem: `${what} is not ${parsed.expected}: ${def.show(def.failClosed)} applies until it is fixed.`,
    ignored: null,
    updatedAt,
    updatedBy,
  };
}

/** Just the values in force. Reads only. */
export async function settingValues(db: AuditDb, env: Env = process.env): Promise<SettingValues> {
  return valuesOf(await readSettings(db, env));
}

/** The values of settings already read. Pure. */
export function valuesOf(s: Settings): SettingValues {
  return {
    approvals: s.approvals.value,
    approvalTtlHours: s.approvalTtlHours.value,
    emergencyRollbackMinutes: s.emergencyRollbackMinutes.value,
    loadCheck: s.loadCheck.value,
  };
}

/**
 * The load check's policy for a registry, for the CLI and the release path: REGISTRY_LOAD_CHECK when set,
 * else the dashboard's stored value, else "on". A registry with no database yet has only the environment
 * and the default (reading never creates one). Reads only.
 */
export async function loadCheckPolicyOf(root: string, env: Env = process.env): Promise<LoadCheckPolicy> {
  const s = databaseExists(root) ? (await readSettings(openAudit(root), env)).loadCheck : fromEnvOnly("loadCheck", env);
  return { mode: s.value, source: s.source };
}

/** The load check's policy from settings already read. Pure. */
export function loadCheckPolicy(settings: Pick<Settings, "loadCheck">): LoadCheckPolicy {
  return { mode: settings.loadCheck.value, source: settings.loadCheck.source };
}

function fromEnvOnly<K extends SettingKey>(key: K, env: Env): Effective<SettingValues[K]> {
  const def = SETTINGS[key] as Definition<K>;
  return envValue(def, env) ?? byDefault(def);
}

/**
 * Stores a setting from the dashboard and audits it as `settings.changed` with the old and new value.
 * Refuses (and audits as `settings.change_refused`) a value looser than the environment's, which would
 * not apply; throws InvalidInputError for a value that does not parse. No event when nothing changes.
 */
export async function changeSetting(
  db: AuditDb,
  actor: Actor,
  key: SettingKey,
  text: string,
  env: Env = process.env,
): Promise<{ changed: boolean; old: string; new: string }> {
  const def = SETTINGS[key] as Definition<SettingKey>;
  const parsed = def.parse(text);
  if (!parsed.ok) throw new InvalidInputError(`${def.label}: expected ${parsed.expected}.`);
  const before = (await readSettings(db, env))[key];
  const old = String(before.value);
  const value = String(parsed.value);
  const floor = envValue(def, env);
  if (floor && def.strictness(parsed.value) < def.strictness(floor.value)) {
    const message = `${def.label} is pinned by ${def.env} in the server's environment to at least ${def.show(floor.value)}: it cannot be loosened here.`;
    await recordEvent(db, actor, {
      action: "settings.change_refused",
      outcome: "refused",
      reason: message,
      details: { key, env: def.env, old, requested: value },
    });
    throw new SettingPinnedError(message);
  }
  const row = await db.setting.findUnique({ where: { key } });
  const storedNow = row ? row.value : before.source === "default" ? old : null;
  if (storedNow === value) return { changed: false, old, new: value };
  const at = new Date().toISOString();
  await db.setting.upsert({
    where: { key },
    create: { key, value, updatedAt: at, updatedBy: actor.name },
    update: { value, updatedAt: at, updatedBy: actor.name },
  });
  await recordEvent(db, actor, {
    action: "settings.changed",
    outcome: "succeeded",
    reason: `${def.label}: ${def.show(before.value as never)} → ${def.show(parsed.value as never)}.`,
    details: { key, old, new: value, oldSource: before.source },
  });
  return { changed: true, old, new: value };
}
