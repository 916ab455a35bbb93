import "server-only";
import type { z } from "zod";
import { identityOfToken, submitChange } from "@/lib/approvals";
import { eventsBefore, eventsWithRejectedInput, lastChange, previousProduction, productionHistory, verifyStoredChain } from "@/lib/audit";
import { type ChangeRequest, InvalidInputError, type Plan, planFromDisk, scanForPlan, type Snapshot, type Version } from "@/lib/registry";
import type { ApiContext } from "@/lib/server/api-route";
import { apiError } from "@/lib/server/api-route";
import { loadCheckPolicyOf } from "@/lib/settings/settings";
import { trustPolicy } from "@/lib/trust/trust-list";
import { loadSnapshot, minScore, overviewData, withModelFacts } from "@/lib/server/registry";
import { queryRows } from "@/lib/views/table-query";
import type { VersionRow } from "@/lib/views/version-rows";
import { encodeVersionCursor, startAfter } from "./cursor";
import { type Previous, problemsJson, productionJson, releaseJson, versionDetailJson, versionJson } from "./release-report";
import type { auditQuery, promotionBody, rollbackBody, versionsQuery } from "./spec";

// What each /api/v1 endpoint does, over the same core and use-case functions as the dashboard's actions
// and the CLI. The route files only bind these to their endpoints (lib/api/spec.ts).

/** GET /production: production with since when and by whom, per the audit log. */
export async function production(ctx: ApiContext): Promise<Response> {
  const s = await loadSnapshot();
  const v = s.production.stem ? byStem(s).get(s.production.stem) : undefined;
  const last = s.production.sha256 ? await lastChange(ctx.db, s.production.sha256) : null;
  return Response.json({
    ...productionJson(s),
    score: v && v.metric !== "unknown" ? v.score : null,
    metric: v?.metric ?? null,
    since: last?.at ?? null,
    by: last?.actor ?? null,
    best: s.best,
  });
}

/** GET /versions: a page of versions as `registry list --json` lists them, after the cursor's version (lib/api/cursor.ts). */
export async function versions(q: z.output<typeof versionsQuery>, ctx: ApiContext): Promise<Response> {
  const s = await loadSnapshot();
  const rows = orderOf(s, q);
  const total = rows.length;
  const start = q.cursor ? startAfter(rows, q.cursor) : 0;
  const pageRows = rows.slice(start, start + q.limit);
  const last = pageRows.at(-1);
  const index = byStem(s);
  const page = pageRows.flatMap((r) => index.get(r.stem) ?? []);
  // The cached snapshot holds no model file facts: read them (sha256 remembered by stat identity) for this
  // page, on copies (the snapshot is shared by every request).
  const loaded = withModelFacts(ctx.root, page);
  return Response.json({
    versions: loaded.map(versionJson),
    nextCursor: last && start + pageRows.length < total ? encodeVersionCursor(q.sort, q.dir, last) : null,
    total,
    best: s.best,
    production: productionJson(s),
    ...(q.cursor === undefined ? { problems: problemsJson(s) } : {}),
  });
}

// The filtered, sorted rows of a scan per query, kept while the scan is current: a pipeline pages through
// one order, and 20,000 rows cost ~30 ms to sort again for every page. A few orders per scan.
const orders = new WeakMap<Snapshot, Map<string, readonly VersionRow[]>>();
const ORDERS_KEPT = 8;

function orderOf(s: Snapshot, q: z.output<typeof versionsQuery>): readonly VersionRow[] {
  let kept = orders.get(s);
  if (!kept) {
    kept = new Map();
    orders.set(s, kept);
  }
  const key = JSON.stringify([q.sort, q.dir, q.q]);
  let rows = kept.get(key);
  if (!rows) {
    rows = queryRows(overviewData(s).rows, {
      sort: q.sort,
      dir: q.dir,
      q: q.q,
      type: "",
      page: 1,
      size: Number.MAX_SAFE_INTEGER,
      hide: [],
    }).rows;
    if (kept.size >= ORDERS_KEPT) kept.delete(kept.keys().next().value as string);
    kept.set(key, rows);
  }
  return rows;
}

const indexes = new WeakMap<Snapshot, Map<string, Version>>();
function byStem(s: Snapshot): Map<string, Version> {
  let m = indexes.get(s);
  if (!m) {
    m = new Map(s.versions.map((v) => [v.stem, v]));
    indexes.set(s, m);
  }
  return m;
}

/** GET /versions/{stem}: as `registry show --json`. */
export async function version(stem: string, ctx: ApiContext): Promise<Response> {
  const { plan, target } = await planFromDisk(
    ctx.root,
    { kind: "promote", version: stem, minScore: minScore(), overrides: [] },
    undefined,
    await trustPolicy(ctx.db),
    // A read never starts the sandbox (the version page does not either): an answer known already is shown.
    { ...(await loadCheckPolicyOf(ctx.root)), start: false },
  );
  return Response.json({
    version: versionDetailJson(target),
    checks: plan.checks,
    metricChanges: plan.metricChanges,
    metricChangesOmitted: plan.metricChangesOmitted,
  });
}

/** POST /promotions and /rollbacks: plan (dry run) or submit under the two-person rule, as the CLI does. */
export async function change(
  kind: "promote" | "rollback",
  input: z.output<typeof promotionBody> | z.output<typeof rollbackBody>,
  ctx: ApiContext,
): Promise<Response> {
  let version = "version" in input ? input.version : "to" in input ? input.to : undefined;
  let previous: Previous | null = null;
  if ("previous" in input && input.previous) {
    previous = await previousOf(ctx);
    version = previous.stem;
  }
  const overrides = "overrides" in input ? (input.overrides ?? []) : [];
  const request: ChangeRequest = { kind, version, minScore: minScore(), overrides, reason: input.reason ?? null };
  if (input.dryRun) {
    const { plan } = await planFromDisk(
      ctx.root,
      request,
      kind === "rollback" ? productionHistory(ctx.db) : undefined,
      await trustPolicy(ctx.db),
      await loadCheckPolicyOf(ctx.root),
    );
    return answer(plan, releaseJson(plan, { dryRun: true, done: false, correlationId: "", previous }), false);
  }
  const outcome = await submitChange(
    ctx.root,
    request,
    { actor: ctx.actor, identity: await identityOfToken(ctx.db, ctx.token) },
    { expected: input.expectedProductionSha256 !== undefined ? { productionSha256: input.expectedProductionSha256 } : undefined },
  );
  const body = releaseJson(
    outcome.plan,
    { dryRun: false, done: outcome.status === "done", correlationId: outcome.correlationId, previous },
    outcome,
  );
  if (outcome.status === "requested") return Response.json(body, { status: 202 });
  return answer(outcome.plan, body, outcome.status === "refused");
}

/** 200 with the CLI's object, or 422 with it as `result` when the change was refused. */
function answer(plan: Plan, body: ReturnType<typeof releaseJson>, refused: boolean): Response {
  if (!refused) return Response.json(body);
  const code = plan.refusalCode === "never_live" ? "never_live" : "refused";
  return apiError(422, code, plan.refusal ?? "Refused by a readiness check.", { result: body });
}

async function previousOf(ctx: ApiContext): Promise<Previous> {
  const { production } = await scanForPlan(ctx.root);
  const answer = await previousProduction(ctx.db, { stem: production.stem, sha256: production.sha256 });
  if (!answer.previous?.stem) throw new InvalidInputError(`There is no previous production to roll back to. ${answer.explanation}`);
  return { stem: answer.previous.stem, sha256: answer.previous.sha256, explanation: answer.explanation };
}

/** GET /audit: a page of events, newest first, before the cursor's sequence number (a key, not an offset). */
export async function audit(q: z.output<typeof auditQuery>, ctx: ApiContext): Promise<Response> {
  const page = await eventsBefore(
    ctx.db,
    { action: q.action, actor: q.actor, version: q.version, from: q.from, to: q.to },
    q.cursor === undefined ? null : Number(q.cursor),
    q.limit,
  );
  return Response.json(page);
}

/** GET /audit/verify: as `registry audit verify --json`. */
export async function auditVerify(ctx: ApiContext): Promise<Response> {
  const chain = await verifyStoredChain(ctx.db);
  const rejectedInputs = await eventsWithRejectedInput(ctx.db);
  return Response.json(rejectedInputs.length ? { ...chain, rejectedInputs } : chain);
}
