import { exitCodeOf } from "@/lib/api/errors";
import { InvalidInputError, RegistryError } from "@/lib/registry/errors";
import { common, type Out, parse } from "./args";

// `registry --server URL COMMAND …`: the commands the HTTP API covers, run against a registry server with
// the token in $REGISTRY_TOKEN instead of the folder. Same flags, same --json objects, same exit codes.

/** A failure the server reported (or reaching it failed), with the exit code the local command would give. */
export class RemoteError extends RegistryError {
  constructor(
    override readonly code: string,
    message: string,
    override readonly exitCode: number,
  ) {
    super(message);
  }
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** The server's base URL; a token is never sent in clear text beyond this machine. Pure. */
export function serverUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidInputError(`--server ${text.slice(0, 200)} is not a URL (e.g. https://registry.example.com).`);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK.has(url.hostname))) {
    throw new InvalidInputError("--server must be https:// (plain http:// only to this machine): the token must not travel in clear text.");
  }
  return url;
}

interface Api {
  get: (path: string) => Promise<unknown>;
  post: (path: string, body: unknown) => Promise<{ status: number; body: unknown }>;
}

function client(base: URL, token: string): Api {
  const call = async (method: string, path: string, body?: unknown) => {
    const url = new URL(path, base);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: "application/json", ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        redirect: "error",
        signal: AbortSignal.timeout(120_000),
      });
    } catch (e) {
      throw new RemoteError("unreachable", `Could not reach ${base.origin}: ${(e as Error).message}`, 1);
    }
    const json = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string }; result?: unknown } | null;
    // A refused change answers 422 with the plan, which the local command prints as well.
    if (res.status === 422 && json?.result) return { status: res.status, body: json.result };
    if (!res.ok || json === null) {
      const code = json?.error?.code ?? "unexpected";
      throw new RemoteError(code, json?.error?.message ?? `The server answered ${res.status}.`, exitCodeOf(res.status));
    }
    return { status: res.status, body: json };
  };
  return { get: async (path) => (await call("GET", path)).body, post: (path, body) => call("POST", path, body) };
}

/** Runs one command against the server; returns its exit code. */
export async function remoteCommand(server: string, argv: string[], io: Out, env = process.env): Promise<number> {
  const base = serverUrl(server);
  const token = env.REGISTRY_TOKEN?.trim();
  if (!token) throw new RemoteError("unauthenticated", "--server needs an API token in $REGISTRY_TOKEN (see `registry tokens create`).", 4);
  if (argv.includes("--root") || argv.some((a) => a.startsWith("--root=")))
    throw new InvalidInputError("--root and --server exclude each other.");
  const api = client(base, token);
  const [command, ...rest] = argv;
  switch (command) {
    case "list":
      return list(api, base, rest, io);
    case "show": {
      const { positionals } = parse(rest, common, 1);
      if (!positionals[0]) throw new InvalidInputError("A version name is required, e.g. candidate_logreg_20250305T101000Z.");
      return print(io, await api.get(`/api/v1/versions/${encodeURIComponent(positionals[0])}`), 0);
    }
    case "promote":
    case "rollback":
      return change(api, command, rest, io);
    case "audit":
      return audit(api, rest, io);
    default:
      throw new InvalidInputError(`"registry ${command ?? ""}" is not available with --server: run it on the registry's machine.`);
  }
}

function print(io: Out, value: unknown, exitCode: number): number {
  if (io.json) io.printJson(value);
  else io.print(JSON.stringify(value, null, 2));
  return exitCode;
}

type Page = {
  versions: Record<string, unknown>[];
  nextCursor: string | null;
  best: string | null;
  production: unknown;
  problems?: unknown[];
};

async function list(api: Api, base: URL, args: string[], io: Out): Promise<number> {
  parse(args, common);
  const first = (await api.get("/api/v1/versions?limit=1000&sort=trainedAt&dir=asc")) as Page;
  const versions = [...first.versions];
  for (let page = first; page.nextCursor; ) {
    page = (await api.get(`/api/v1/versions?limit=1000&sort=trainedAt&dir=asc&cursor=${encodeURIComponent(page.nextCursor)}`)) as Page;
    versions.push(...page.versions);
  }
  const result = { root: base.origin, production: first.production, best: first.best, versions, problems: first.problems ?? [] };
  if (io.json) io.printJson(result);
  else {
    const p = first.production as { stem: string | null; state: string; explanation: string };
    io.print(`Registry ${base.origin}\nProduction: ${p.stem ?? "—"} [${p.state}] ${p.explanation}\nBest: ${first.best ?? "—"}\n`);
    for (const v of versions) io.print(`${v.isProduction ? "*" : " "}${v.isBest ? "+" : " "} ${v.stem}  ${v.metric} ${v.score}`);
  }
  return 0;
}

async function change(api: Api, kind: "promote" | "rollback", args: string[], io: Out): Promise<number> {
  const { values } = parse(args, {
    ...common,
    version: { type: "string" },
    to: { type: "string" },
    "dry-run": { type: "boolean" },
    override: { type: "string", multiple: true },
    reason: { type: "string" },
    previous: { type: "boolean" },
    "expect-production": { type: "string" },
  });
  if (kind === "promote" && (values.to !== undefined || values.previous))
    throw new InvalidInputError("promote takes --version, not --to or --previous.");
  if (kind === "rollback" && values.version !== undefined) throw new InvalidInputError("rollback takes --to STEM or --previous.");
  const overrides = (values.override ?? []).map((check) => {
    if (!values.reason?.trim()) throw new InvalidInputError(`--override ${check} needs --reason TEXT saying why.`);
    return { check, reason: values.reason };
  });
  const shared = {
    ...(values["dry-run"] ? { dryRun: true } : {}),
    ...(values.reason !== undefined ? { reason: values.reason } : {}),
    ...(values["expect-production"] !== undefined ? { expectedProductionSha256: values["expect-production"] || null } : {}),
  };
  const body =
    kind === "promote"
      ? { ...shared, ...(values.version !== undefined ? { version: values.version } : {}), ...(overrides.length ? { overrides } : {}) }
      : { ...shared, ...(values.previous ? { previous: true } : {}), ...(values.to !== undefined ? { to: values.to } : {}) };
  const { body: result } = await api.post(kind === "promote" ? "/api/v1/promotions" : "/api/v1/rollbacks", body);
  const r = result as ChangeResult;
  const exitCode = r.requested || !r.refused ? 0 : 3;
  if (io.json) io.printJson(result);
  else io.print(describeChange(r));
  return exitCode;
}

interface ChangeResult {
  kind: string;
  from: string | null;
  to: string;
  dryRun: boolean;
  noop: boolean;
  refused: boolean;
  refusal: string | null;
  requested: boolean;
  requestId?: number;
  expiresAt?: string;
  checks: { name: string; passed: boolean; overridden: boolean; skipped: boolean; detail: string }[];
}

/** A promotion's or rollback's answer for a terminal, in the local command's words. Pure. */
export function describeChange(r: ChangeResult): string {
  const verb = r.kind === "rollback" ? "Roll back to" : "Promote";
  const lines = [`${r.dryRun ? "[dry run] " : ""}${verb} ${r.to} (production now: ${r.from ?? "—"})`, "  checks:"];
  for (const c of r.checks) {
    const mark = c.skipped ? "skip" : c.passed ? "pass" : c.overridden ? "OVERRIDDEN" : "FAIL";
    lines.push(`    ${mark.padEnd(10)} ${c.name.padEnd(18)} ${c.detail}`);
  }
  if (r.refused) lines.push(`  ${r.refusal ?? "Refused."}`);
  else if (r.requested)
    lines.push(`Request #${r.requestId} filed: nothing was written. A second releaser approves it before ${r.expiresAt}.`);
  else if (r.noop) lines.push(`${r.to} is already in production: nothing to do.`);
  else if (r.dryRun) lines.push("Dry run: nothing was written. Run again without --dry-run to apply.");
  else
    lines.push(`${r.kind === "rollback" ? "Rolled back to" : "Promoted"} ${r.to}: production_latest.joblib and .json now hold its bytes.`);
  return lines.join("\n");
}

async function audit(api: Api, args: string[], io: Out): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "verify") {
    parse(rest, common);
    const report = (await api.get("/api/v1/audit/verify")) as { ok: boolean };
    return print(io, report, report.ok ? 0 : 3);
  }
  if (sub !== "list")
    throw new InvalidInputError(`"registry audit ${sub ?? ""}" is not available with --server: run it on the registry's machine.`);
  const { values } = parse(rest, {
    ...common,
    action: { type: "string" },
    actor: { type: "string" },
    version: { type: "string" },
    limit: { type: "string" },
  });
  const limit = Number(values.limit ?? 50);
  if (!Number.isInteger(limit) || limit < 1) throw new InvalidInputError("--limit must be a positive whole number.");
  const query = new URLSearchParams();
  for (const key of ["action", "actor", "version"] as const) if (values[key] !== undefined) query.set(key, values[key]);
  const events: unknown[] = [];
  let total = 0;
  let cursor: string | null = null;
  do {
    query.set("limit", String(Math.min(1000, limit - events.length)));
    if (cursor) query.set("cursor", cursor);
    const page = (await api.get(`/api/v1/audit?${query}`)) as { events: unknown[]; total: number; nextCursor: string | null };
    events.push(...page.events);
    total = page.total;
    cursor = page.nextCursor;
  } while (cursor && events.length < limit);
  return print(io, { total, events }, 0);
}
