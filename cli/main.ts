import { parseArgs } from "node:util";
import {
  type ChangeRequest,
  CHECK_NAMES,
  type CheckName,
  InvalidInputError,
  type Plan,
  planFromDisk,
  RegistryError,
  resolveMinScore,
  resolveRoot,
  scanRegistry,
  validateVersionName,
  applyPlan,
} from "@/lib/registry";
import { renderList, renderPlan, renderVersion } from "./output";

const USAGE = `registry — the model registry from the command line

Usage: registry <command> [options]   (every command takes --root DIR and --json)

  list                         every version, the problems, production and the best
  show STEM                    one version: metadata, metrics, checks against production
  promote [--version STEM]     promote the best version (or STEM) into production
          [--dry-run] [--min-score X] [--override CHECK --reason TEXT] [--actor NAME]
  rollback --to STEM           copy an older version back into production
          [--reason TEXT] [--actor NAME]

Exit codes: 0 done or nothing to do, 1 unexpected error, 2 bad usage or unknown version,
3 refused by a readiness check or nothing to promote.
Root: --root DIR, else $REGISTRY_ROOT, else ./artifacts. Threshold: --min-score, else $REGISTRY_MIN_SCORE, else 0.60.`;

type Out = { json: boolean; print: (text: string) => void; printJson: (value: unknown) => void };

/** Runs one CLI invocation and returns its exit code; never calls process.exit (bin.mjs does). */
export async function main(argv: string[], out: Out = defaultOut()): Promise<number> {
  const [command, ...rest] = argv;
  const json = rest.includes("--json");
  const io = { ...out, json };
  try {
    switch (command) {
      case "list":
        return await list(rest, io);
      case "show":
        return await show(rest, io);
      case "promote":
        return await change("promote", rest, io);
      case "rollback":
        return await change("rollback", rest, io);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        io.print(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new InvalidInputError(`Unknown command "${command}". Run \`registry --help\` for the commands.`);
    }
  } catch (e) {
    return fail(e, io);
  }
}

const common = { root: { type: "string" }, json: { type: "boolean" } } as const;

function parse<T extends Parameters<typeof parseArgs>[0]["options"]>(args: string[], options: T, positionals = 0) {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new InvalidInputError(`${(e as Error).message}. Run \`registry --help\` for usage.`);
  }
  if (parsed.positionals.length > positionals) {
    throw new InvalidInputError(`Unexpected argument "${parsed.positionals[positionals]}".`);
  }
  return parsed;
}

async function list(args: string[], io: Out): Promise<number> {
  const { values } = parse(args, common);
  const s = await scanRegistry(resolveRoot(values.root));
  if (io.json) {
    io.printJson({
      root: s.root,
      production: { stem: s.production.stem, sha256: s.production.sha256, state: s.production.state, explanation: s.production.explanation },
      best: s.best,
      versions: s.versions.map((v) => ({
        stem: v.stem,
        modelType: v.modelType,
        timestamp: v.timestamp,
        score: v.score,
        metric: v.metric,
        sha256: v.sha256,
        isProduction: v.isProduction,
        isBest: v.isBest,
        metricsFile: v.metricsFile,
        size: v.size,
      })),
      problems: s.problems.map((p) => ({ file: p.file, reason: p.reason, message: p.message })),
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
  const { snapshot, plan } = await planFromDisk(root, { kind: "promote", version: stem, minScore: resolveMinScore(), overrides: [] });
  const v = snapshot.versions.find((x) => x.stem === stem)!;
  if (io.json) io.printJson({ version: plainVersion(v), checks: plan.checks, metricChanges: plan.metricChanges });
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
  });
  const root = resolveRoot(values.root);
  const stem = kind === "promote" ? values.version : values.to;
  if (kind === "rollback" && stem === undefined) throw new InvalidInputError("rollback needs --to STEM.");
  const overrides = (values.override ?? []).map((name) => {
    if (!(CHECK_NAMES as readonly string[]).includes(name)) {
      throw new InvalidInputError(`Unknown check "${name}" for --override; checks are ${CHECK_NAMES.join(", ")}.`);
    }
    if (!values.reason?.trim()) throw new InvalidInputError(`--override ${name} needs --reason TEXT saying why.`);
    return { check: name as CheckName, reason: values.reason };
  });
  const request: ChangeRequest = {
    kind,
    version: stem === undefined ? undefined : validateVersionName(stem),
    minScore: resolveMinScore(values["min-score"]),
    overrides,
    reason: values.reason ?? null,
  };
  const dryRun = values["dry-run"] === true;
  const { plan } = await planFromDisk(root, request);
  if (dryRun || !plan.allowed || plan.noop) {
    report(plan, { dryRun, done: false }, io);
    return plan.allowed ? 0 : 3;
  }
  await applyPlan(root, plan);
  report(plan, { dryRun, done: true }, io);
  return 0;
}

function report(plan: Plan, r: { dryRun: boolean; done: boolean }, io: Out): void {
  if (io.json) {
    io.printJson({
      promoted: plan.kind === "promote" && r.done,
      ...(plan.kind === "rollback" ? { rolledBack: r.done } : {}),
      kind: plan.kind,
      from: plan.current.stem,
      to: plan.target.stem,
      metric: plan.target.metric,
      score: plan.target.score,
      checks: plan.checks.map((c) => ({ name: c.name, passed: c.passed, detail: c.detail, overridden: c.overridden, skipped: c.skipped })),
      dryRun: r.dryRun,
      noop: plan.noop,
      refused: !plan.allowed,
      refusal: plan.refusal,
      files: plan.files,
    });
    return;
  }
  io.print(renderPlan(plan, r.dryRun));
  if (r.done) io.print(`${plan.kind === "promote" ? "Promoted" : "Rolled back to"} ${plan.target.stem}: production_latest.joblib and .json now hold its bytes.`);
  else if (plan.noop) io.print(`${plan.target.stem} is already in production: nothing to do.`);
  else if (r.dryRun && plan.allowed) io.print("Dry run: nothing was written. Run again without --dry-run to apply.");
}

function fail(e: unknown, io: Out): number {
  const known = e instanceof RegistryError;
  const message = known ? e.message : `Unexpected error: ${(e as Error)?.stack ?? String(e)}`;
  const exitCode = known ? e.exitCode : 1;
  if (io.json) io.printJson({ error: { code: known ? e.code : "unexpected", message }, exitCode });
  else process.stderr.write(`registry: ${message}\n`);
  return exitCode;
}

function plainVersion(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v));
}

function defaultOut(): Out {
  return {
    json: false,
    print: (text) => process.stdout.write(`${text}\n`),
    printJson: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  };
}
