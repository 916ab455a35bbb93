import { userInfo } from "node:os";
import type { Actor } from "@/lib/audit";
import { databaseExists } from "@/lib/audit/db-file";
import { isUnreachable } from "@/lib/db/url";
import { startSpareWorker } from "@/lib/inspect/run-isolated";
import type { InspectionPolicy } from "@/lib/inspect/types";
import { type LoadCheckPolicy, loadCheckPolicyFromEnv } from "@/lib/load-check/mode";
import {
  CHECK_NAMES,
  type ChangeRequest,
  type CheckName,
  InvalidInputError,
  loadScanCache,
  needsRecovery,
  type Plan,
  planFromDisk,
  RegistryError,
  resolveMinScore,
  resolveRoot,
  saveScanCache,
  scanRegistry,
  validateVersionName,
} from "@/lib/registry";
import { DatabaseUnavailableError } from "@/lib/registry/errors";
import { type Previous, problemsJson, productionJson, releaseJson, versionDetailJson, versionJson } from "@/lib/api/release-report";
import { common, type Out, parse } from "./args";
import { renderList, renderPlan, renderVersion } from "./output";

const USAGE = `registry — the model registry from the command line

Usage: registry <command> [options]   (every command takes --root DIR and --json)

  list                         every version, the problems, production and the best
  show STEM                    one version: metadata, metrics, checks against production
  promote [--version STEM]     promote the best version (or STEM) into production
          [--dry-run] [--min-score X] [--override CHECK --reason TEXT] [--actor NAME]
          [--user NAME --password-stdin]
  rollback --to STEM | --previous
                               put back a version that was live before (proven by the
                               audit log, by content hash), or the one live before the
                               current production was promoted; skips min_score and
                               no_degradation. A version never live is refused
                               (refusalCode never_live, exit 3): promote it instead
          [--dry-run] [--reason TEXT] [--actor NAME] [--user NAME --password-stdin]
                               with the two-person rule on (REGISTRY_APPROVALS=required or
                               the dashboard's setting) both need an account and file a
                               request that a second releaser approves; exit 0, "requested"
  requests list [--all]        approval requests waiting for a second releaser
  requests approve ID --reason TEXT --user NAME --password-stdin
  requests reject ID --reason TEXT --user NAME --password-stdin
  requests withdraw ID [--reason TEXT] --user NAME --password-stdin
  inspect FILE                 static safety verdict and feature schema of a model file
                               (never unpickled), with the registry's trust list; exit 0 safe,
                               3 unsafe/malformed/unsupported, 2 no such file
  trust add MODULE.NAME --reason TEXT
                               trust an in-house class in model files (an exact pair, never a
                               prefix; names that run code, like os.system, can't be trusted)
  trust remove MODULE.NAME --reason TEXT
                               stop trusting it: models importing it are unsafe again at once
  trust list                   the trust list: each pair, who added it, when and why
  audit list [--action A] [--actor NAME] [--version STEM] [--limit N]
  audit verify [--file EXPORT]  check the hash chain (the database, or a JSON or CSV export)
  audit export [--format json|csv] [--out FILE]   (CSV cells a spreadsheet would run are
                               neutralised with a leading ' that verify takes off)
  audit redact --seq N [--seq N…] --field reason|details|details.KEY --reason TEXT
          [--dry-run] [--actor NAME]
                               take a secret out of logged events: replaces the field with a
                               marker, re-chains the later events, records an audit.redacted event
                               and compacts the database (the SQLite file; on PostgreSQL the
                               audit table, VACUUM FULL) (exit 3 if the chain is broken)
  audit redact --rejected-inputs --reason TEXT [--dry-run]
                               the same for every preview of refused input an older log holds
                               (details.input of request.rejected events)
  audit redact --compact       only compact the database (when a redaction found it busy)
  audit production [--at 2026-03-01T12:00:00Z]
                               what was production at that instant (default: now), by
                               the audit log: version, sha256, who put it there, when, why
  users add NAME --role ROLE [--role ROLE] [--password-stdin]
                               create a dashboard account (roles: viewer, releaser, auditor,
                               admin); without --password-stdin a password is generated and shown
  users list | users roles NAME --role ROLE
  users disable NAME | users enable NAME | users delete NAME
                               a disabled or deleted account's sessions end at once; a deleted
                               name stays reserved; the last admin cannot be removed or demoted
  users reset-password NAME [--password-stdin]
                               a temporary password (generated and shown, or read) that must
                               be changed at the next sign-in
  users person NAME "FULL NAME OR EMAIL"
                               who the account is for the two-person rule: accounts with one
                               person count as one (an empty one: the username)
  webhooks add URL --secret-stdin --events model.promoted,model.rolled_back,promotion.refused
                               register a receiver of signed events (also rollback.refused);
                               the secret is read from stdin, stored encrypted, never shown again
  webhooks list | remove ID | disable ID | enable ID
  webhooks deliveries ID       a webhook's latest deliveries with their attempts and status
  webhooks redeliver DELIVERY_ID | test ID (send a ping now; exit 3 if not delivered)
  webhooks send                send every due delivery once (where no server runs)
  tokens create --name NAME --role ROLE [--expires 90d] [--user NAME --password-stdin]
                               an API token for the HTTP API (/api/v1), scoped to one role and
                               expiring (at most 366 days); printed once, only its sha256 is kept;
                               it asks for changes on behalf of its maker: the account named with
                               --user, or the OS user (then it cannot ask under the two-person rule)
  tokens list | tokens revoke ID|NAME
  db migrate                   create and migrate the database (done on first use anyway): the
                               SQLite file, or PostgreSQL when DATABASE_URL is postgresql://…
  db copy --to postgresql://…  copy accounts, sessions, settings, approvals and the audit log
                               (every hash kept) into an empty PostgreSQL database (exit 3 if
                               it is not empty or the copied chain does not verify)
  help [COMMAND]               this text, or one command's (as does COMMAND --help or -h);
                               help and bad usage read and write nothing

Remote: registry --server https://HOST COMMAND … with $REGISTRY_TOKEN runs list, show, promote,
rollback, audit list and audit verify through the server's API: same flags (not --root, --actor,
--user, --min-score: the token's name is the actor), same --json, same exit codes; promote and rollback
also take --expect-production SHA256 (exit 3 if production changed meanwhile).

Exit codes: 0 done, requested or nothing to do, 1 unexpected error, 2 bad usage or unknown version
or request, 3 refused by a readiness check (a rollback to a version never live included) or the two-person rule, or nothing to promote,
4 wrong credentials or an account without the needed role.
Root: --root DIR, else $REGISTRY_ROOT, else ./artifacts. Threshold: --min-score, else $REGISTRY_MIN_SCORE, else 0.60.`;

/**
 * The usage of one command: its lines of USAGE (the lines that start with its name and the indented ones
 * under them), the options every command takes and the exit codes. Null for a command USAGE does not list.
 */
function usageOf(command: string): string | null {
  const lines: string[] = [];
  let inside = false;
  for (const line of USAGE.split("\n")) {
    if (/^ {2}\S/.test(line)) inside = line.slice(2).split(/\s/)[0] === command;
    else if (!/^ {3,}\S/.test(line)) inside = false;
    if (inside) lines.push(line);
  }
  if (lines.length === 0) return null;
  const footer = USAGE.slice(USAGE.indexOf("\nExit codes:") + 1);
  return [`Usage: registry ${command} …   (every command takes --root DIR and --json)`, "", ...lines, "", footer].join("\n");
}

/**
 * What `registry help [COMMAND]`, `registry COMMAND --help` and `-h` print (help for a command before any
 * of it runs: nothing is read or written), or null when the arguments ask for no help.
 */
function helpFor(command: string | undefined, rest: string[]): { text: string; exitCode: number } | null {
  if (command === undefined) return { text: USAGE, exitCode: 2 };
  const isHelp = command === "help" || command === "--help" || command === "-h";
  const flags = rest.includes("--") ? rest.slice(0, rest.indexOf("--")) : rest;
  if (!isHelp && !flags.includes("--help") && !flags.includes("-h")) return null;
  const topic = isHelp ? parse(rest, { ...common, help: { type: "boolean", short: "h" } }, 1).positionals[0] : command;
  if (topic === undefined) return { text: USAGE, exitCode: 0 };
  const text = usageOf(topic);
  if (text === null) throw new InvalidInputError(`Unknown command "${topic}". Run \`registry --help\` for the commands.`);
  return { text, exitCode: 0 };
}

// The audit log (Prisma and its query engine) loads only for commands that write or read it, so
// `list` and `promote --dry-run` start fast.
let auditLoaded = false;
function audit() {
  if (!auditLoaded) {
    // The audit log's query compiler is WebAssembly. A short-lived CLI never profits from V8 optimising
    // it in the background, and a process cannot exit until that work finishes (measured: 150-200 ms
    // per command). Liftoff, V8's baseline wasm compiler, is plenty for a handful of queries.
    process.getBuiltinModule("node:v8").setFlagsFromString("--liftoff-only");
  }
  auditLoaded = true;
  return import("@/lib/audit");
}

/** The registry's trust list for the inspector: empty for a registry with no database (none is created). */
async function trustPolicyOf(root: string): Promise<InspectionPolicy> {
  if (!databaseExists(root)) return { trusted: [] };
  await audit();
  return (await import("@/lib/trust/trust-list")).trustPolicyOf(root);
}

/** The registry's load-check setting (REGISTRY_LOAD_CHECK, else the dashboard's, else "on"): the environment alone with no database. */
async function loadCheckPolicyOf(root: string): Promise<LoadCheckPolicy> {
  if (!databaseExists(root)) return loadCheckPolicyFromEnv();
  await audit();
  return (await import("@/lib/settings/settings")).loadCheckPolicyOf(root);
}

/** Runs one CLI invocation and returns its exit code; never exits the process (bin.mjs sets the exit code). */
export async function main(argv: string[], out: Out = defaultOut()): Promise<number> {
  const json = argv.slice(1).includes("--json");
  const io = { ...out, json };
  try {
    const { server, args } = serverOf(argv);
    const [command, ...rest] = args;
    const help = helpFor(command, rest);
    if (help) {
      if (json) io.printJson({ usage: help.text });
      else io.print(help.text);
      return help.exitCode;
    }
    if (server !== undefined) return await (await import("./remote")).remoteCommand(server, args, io);
    switch (command) {
      case "list":
        return await list(rest, io);
      case "show":
        return await show(rest, io);
      case "promote":
        return await change("promote", rest, io);
      case "rollback":
        return await change("rollback", rest, io);
      case "audit":
        await audit();
        return await (await import("./audit-commands")).auditCommand(rest, io, osUser());
      case "inspect":
        return await (await import("./inspect-command")).inspectCommand(rest, io, trustPolicyOf);
      case "db":
        await audit();
        return await (await import("./db-commands")).dbCommand(rest, io);
      case "requests":
        await audit();
        return await (await import("./requests-commands")).requestsCommand(rest, io, osUser());
      case "users":
        await audit();
        return await (await import("./users-commands")).usersCommand(rest, io, osUser());
      case "webhooks":
        await audit();
        return await (await import("./webhooks-commands")).webhooksCommand(rest, io, osUser());
      case "trust":
        await audit();
        return await (await import("./trust-commands")).trustCommand(rest, io, osUser());
      case "tokens":
        await audit();
        return await (await import("./tokens-commands")).tokensCommand(rest, io, osUser());
      default:
        throw new InvalidInputError(`Unknown command "${command}". Run \`registry --help\` for the commands.`);
    }
  } catch (e) {
    return fail(e, io);
  } finally {
    if (auditLoaded) await (await audit()).closeAudit();
  }
}

/** `--server URL` (or `--server=URL`) anywhere before a `--`, taken out of the arguments. */
function serverOf(argv: string[]): { server: string | undefined; args: string[] } {
  const end = argv.includes("--") ? argv.indexOf("--") : argv.length;
  for (let i = 0; i < end; i++) {
    const a = argv[i] as string;
    if (a === "--server") {
      const url = argv[i + 1];
      if (url === undefined || url.startsWith("--")) throw new InvalidInputError("--server needs a URL.");
      return { server: url, args: [...argv.slice(0, i), ...argv.slice(i + 2)] };
    }
    if (a.startsWith("--server=")) return { server: a.slice(9), args: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { server: undefined, args: argv };
}

async function list(args: string[], io: Out): Promise<number> {
  const { values } = parse(args, common);
  const root = resolveRoot(values.root);
  const s = await withScanCache(root, () => scanRegistry(root, { metrics: "scores", models: true }), { inspects: false });
  if (io.json) {
    io.printJson({
      root: s.root,
      production: productionJson(s),
      best: s.best,
      versions: s.versions.map(versionJson),
      problems: problemsJson(s),
    });
  } else {
    io.print(renderList(s));
  }
  return 0;
}

async function show(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(args, common, 1);
  const stem = validateVersionName(positionals[0]);
  const root = resolveRoot(values.root);
  const policy = await trustPolicyOf(root);
  const loadCheck = await loadCheckPolicyOf(root);
  const { target: v, plan } = await withScanCache(root, () =>
    planFromDisk(
      root,
      { kind: "promote", version: stem, minScore: resolveMinScore(), overrides: [] },
      undefined,
      policy,
      loadCheck,
    ),
  );
  // Documents nest at most MAX_NESTING levels (deeper values read as NESTED_TOO_DEEPLY), so this prints.
  if (io.json)
    io.printJson({ version: versionDetailJson(v), checks: plan.checks, metricChanges: plan.metricChanges, metricChangesOmitted: plan.metricChangesOmitted });
  else io.print(renderVersion(v, plan.checks));
  return 0;
}

async function change(kind: "promote" | "rollback", args: string[], io: Out): Promise<number> {
  const { values } = parse(args, {
    ...common,
    version: { type: "string" },
    to: { type: "string" },
    "dry-run": { type: "boolean" },
    "min-score": { type: "string" },
    override: { type: "string", multiple: true },
    reason: { type: "string" },
    actor: { type: "string" },
    previous: { type: "boolean" },
    user: { type: "string" },
    "password-stdin": { type: "boolean" },
  });
  const root = resolveRoot(values.root);
  const actor: Actor = { name: values.actor?.trim() || osUser(), role: "cli", source: "cli" };
  const dryRun = values["dry-run"] === true;
  // Every flag is checked before anything is read or written: bad usage changes nothing, not even a repair.
  const named = kind === "promote" ? values.version : values.to;
  if (kind === "rollback" && values.previous && named !== undefined)
    throw new InvalidInputError("Use either --to STEM or --previous, not both.");
  if (kind === "rollback" && !values.previous && named === undefined)
    throw new InvalidInputError("rollback needs --to STEM or --previous.");
  const overrides = (values.override ?? []).map((name) => {
    if (!(CHECK_NAMES as readonly string[]).includes(name)) {
      throw new InvalidInputError(`Unknown check "${name}" for --override; checks are ${CHECK_NAMES.join(", ")}.`);
    }
    if (!values.reason?.trim()) throw new InvalidInputError(`--override ${name} needs --reason TEXT saying why.`);
    return { check: name as CheckName, reason: values.reason };
  });
  const minScore = resolveMinScore(values["min-score"]);
  const version = named === undefined ? undefined : validateVersionName(named);
  if (!dryRun || needsRecovery(root)) {
    await audit();
    await (await import("@/lib/release")).repairOnStart(root, actor);
  }
  // One scan cache for the whole command: the scan that finds the previous version, the plan and the
  // release all start from it (and from each other), and it is loaded and saved once.
  return withScanCache(root, async () => {
    let stem = version;
    let previous: Previous | null = null;
    if (kind === "rollback" && values.previous) {
      const { openAudit } = await audit();
      const { previousTarget } = await import("@/lib/release");
      previous = await previousTarget(root, openAudit(root), " Name a version that was live with --to STEM (see `registry audit production`).");
      stem = previous.stem;
    }
    const request: ChangeRequest = { kind, version: stem, minScore, overrides, reason: values.reason ?? null };
    if (dryRun) {
      // A rollback is planned against the audit log: was its target live?
      const history = kind === "rollback" ? await audit().then((a) => a.productionHistory(a.openAudit(root))) : undefined;
      const { plan } = await planFromDisk(root, request, history, await trustPolicyOf(root), await loadCheckPolicyOf(root));
      report(plan, { dryRun, done: false, correlationId: "", previous }, io);
      return plan.allowed ? 0 : 3;
    }
    // The two-person rule decides whether this applies now or files a request (lib/approvals).
    await audit();
    const { requesterFrom } = await import("./requests-commands");
    const { submitChange } = await import("@/lib/approvals");
    const outcome = await submitChange(root, request, await requesterFrom(root, values, actor, io, osUser()));
    report(outcome.plan, { dryRun, done: outcome.status === "done", correlationId: outcome.correlationId, previous }, io, outcome);
    return outcome.status === "requested" || outcome.plan.allowed ? 0 : 3;
  });
}

function report(
  plan: Plan,
  r: { dryRun: boolean; done: boolean; correlationId: string; previous: Previous | null },
  io: Out,
  submitted?: { status: string; emergency: boolean; request: { id: number; expiresAt: string } | null },
): void {
  const request = submitted?.status === "requested" ? submitted.request : null;
  if (io.json) {
    io.printJson(releaseJson(plan, r, submitted));
    return;
  }
  if (r.previous) io.print(`Previous production: ${r.previous.stem}. ${r.previous.explanation}`);
  io.print(renderPlan(plan, r.dryRun));
  if (request) {
    io.print(
      `Request #${request.id} filed: nothing was written. A second releaser approves it with \`registry requests approve ${request.id} --reason TEXT --user NAME --password-stdin\` (or on /approvals) before ${request.expiresAt}.`,
    );
    return;
  }
  if (submitted?.emergency && r.done) io.print("Emergency rollback: approval skipped; the audit log flags it for review.");
  if (r.done)
    io.print(
      `${plan.kind === "promote" ? "Promoted" : "Rolled back to"} ${plan.target.stem}: production_latest.joblib and .json now hold its bytes.`,
    );
  else if (plan.noop) io.print(`${plan.target.stem} is already in production: nothing to do.`);
  else if (r.dryRun && plan.allowed) io.print("Dry run: nothing was written. Run again without --dry-run to apply.");
}

function fail(error: unknown, io: Out): number {
  // A database that cannot be reached is told as such, once, without a driver's stack trace.
  const e = isUnreachable(error) && !(error instanceof RegistryError) ? databaseUnavailable(error) : error;
  const known = e instanceof RegistryError;
  const message = known ? e.message : `Unexpected error: ${(e as Error)?.stack ?? String(e)}`;
  const exitCode = known ? e.exitCode : 1;
  if (io.json) io.printJson({ error: { code: known ? e.code : "unexpected", message }, exitCode });
  else process.stderr.write(`registry: ${message}\n`);
  return exitCode;
}

function databaseUnavailable(cause: unknown): DatabaseUnavailableError {
  return new DatabaseUnavailableError(
    "The database cannot be reached: nothing was changed. Check DATABASE_URL and that the server is up, then try again.",
    { cause },
  );
}

/**
 * Runs a command with the persistent scan cache loaded before and saved after (see scan-cache.ts).
 * `inspects`: the command inspects model files after its scan (plans do; a listing does not).
 */
async function withScanCache<T>(root: string, fn: () => Promise<T>, { inspects = true } = {}): Promise<T> {
  const loaded = loadScanCache(root);
  // With nothing remembered, this run reads every file: a worker thread boots now to share that work and
  // then run the inspection (see startSpareWorker). A remembered registry rarely needs either.
  if (!loaded.memo) startSpareWorker({ inspects });
  const result = await fn();
  saveScanCache(root, loaded);
  return result;
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? "unknown";
  }
}

function defaultOut(): Out {
  return {
    json: false,
    print: (text) => process.stdout.write(`${text}\n`),
    printJson: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  };
}
