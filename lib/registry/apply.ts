import { constants, existsSync } from "node:fs";
import { copyFile, mkdir, open, readdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { nodeCrypto } from "@/lib/lazy-builtins";
import { AliasBlockedError, ProductionChangedError, RefusedError, RegistryError, SourceChangedError, WriteFailedError } from "./errors";
import { checkRegularFile, hashFile, identityOf, knownHash, openRegular } from "./files";
import { STATE_DIR, withRegistryLock } from "./lock";
import type { Plan } from "./plan";
import { aliasObstacle, METRICS_ALIAS, METRICS_DIR, MODEL_ALIAS, MODELS_DIR, readAlias, TEMP_PREFIX } from "./scan";

const CHUNK = 4 * 1024 * 1024;
const JOURNAL = "journal.json";

export interface ApplyHooks {
  /** Runs under the lock once the new files are staged and before any alias changes: record intent here. */
  beforeCommit?: (plan: Plan) => Promise<void>;
  /** Runs under the lock after both aliases are in place: record completion here. */
  afterCommit?: (plan: Plan) => Promise<void>;
  /** Runs under the lock when an interrupted change was finished before this one: audit the repair. */
  onRecovered?: (recovery: Recovery) => Promise<void>;
}

export interface ApplyResult {
  noop: boolean;
  from: string | null;
  to: string;
  files: { alias: string; sha256: string }[];
}

export interface ApplyOptions {
  lockTimeoutMs?: number;
  /** Kept in the journal so a repair after a crash can name the attempt (the audit correlation id). */
  tag?: string;
}

export interface Journal {
  /** "staging" while temp files are written (a crash then aborts); "staged" once all are complete (a crash then rolls forward). */
  state: "staging" | "staged";
  kind: Plan["kind"];
  tag: string | null;
  from: string | null;
  /** The model bytes being replaced (absent in journals written before it was recorded). */
  fromSha256?: string | null;
  to: string;
  startedAt: string;
  pid: number;
  files: JournalFile[];
}

export interface JournalFile {
  temp: string;
  alias: string;
  sha256: string;
  /** What the alias held before (null: nothing readable); absent from journals written before it was kept. */
  previousSha256?: string | null;
}

export interface Recovery {
  /** The interrupted change; null when its journal could not be read or trusted (then it was set aside). */
  journal: Journal | null;
  /**
   * "rolled_forward": the interrupted change was completed, both aliases hold the new version;
   * "cleaned": it was abandoned with no alias changed (it stopped while staging, or an alias could not be
   * replaced: see reason); "incomplete": some aliases hold the new version and the others could not be
   * replaced (see reason); "set_aside": the journal was unreadable or named files that are not ours, so it
   * was moved aside unread and only the temp files were removed.
   */
  action: "rolled_forward" | "cleaned" | "incomplete" | "set_aside";
  /** Why the change could not be completed; null when it was, or when it stopped while staging. */
  reason: string | null;
  removedTemps: string[];
}

/**
 * Applies a plan: under the registry lock, re-checks that production is what the plan saw and that no
 * alias path holds something a rename cannot replace, copies the target's files to temp files beside the
 * aliases (hashing while copying, refusing a changed source), fsyncs them, journals the intent, renames
 * each over its alias and fsyncs the folders. Never writes through an existing alias (a rename replaces
 * the link itself). On any failure before the renames it removes its temp files and leaves production
 * untouched; when a rename fails it settles the journal at once (see settle) and says what production holds.
 */
export async function applyPlan(root: string, plan: Plan, hooks: ApplyHooks = {}, options: ApplyOptions = {}): Promise<ApplyResult> {
  return withRegistryLock(
    root,
    async () => {
      const recovery = await recoverUnlocked(root);
      if (recovery && hooks.onRecovered) await hooks.onRecovered(recovery);
      await assertProductionUnchanged(root, plan);
      if (!plan.allowed) throw new RefusedError(plan.refusal ?? "Refused by a readiness check.");
      const result = { from: plan.current.stem, to: plan.target.stem };
      if (plan.noop) return { ...result, noop: true, files: [] };
      // Under the lock, before anything is written: a folder may have appeared since the plan was made.
      const obstacles = plan.files.map((f) => aliasObstacle(root, f.alias)).filter((o) => o !== null);
      if (obstacles.length) throw new AliasBlockedError(`${obstacles.join(" ")} Nothing was written: move it away, then try again.`);
      const journal: Journal = {
        state: "staging",
        kind: plan.kind,
        ...result,
        fromSha256: plan.current.sha256,
        startedAt: new Date().toISOString(),
        pid: process.pid,
        tag: options.tag ?? null,
        files: plan.files.map((f) => ({
          temp: `${dirname(f.alias)}/${TEMP_PREFIX}${nodeCrypto().randomBytes(6).toString("hex")}.tmp`,
          alias: f.alias,
          sha256: f.newSha256,
          previousSha256: f.currentSha256,
        })),
      };
      // The journal exists before any temp file does, so a crash never leaves one that nobody will find.
      try {
        await writeJournal(root, journal);
        await stage(root, plan, journal);
        await writeJournal(root, { ...journal, state: "staged" });
        faultPoint("after_journal");
        await pausePoint(root, "after_journal");
        if (hooks.beforeCommit) await hooks.beforeCommit(plan);
      } catch (e) {
        await discard(root, journal);
        if (e instanceof RegistryError) throw e;
        throw writeFailure(e);
      }
      faultPoint("after_intent");
      let settled: Recovery | null = null;
      try {
        await commit(root, journal);
      } catch (e) {
        // A rename failed (a folder appeared at an alias meanwhile, say): end the change now, under this
        // lock, so that no journal is left that no start could ever finish.
        settled = await settle(root, { ...journal, state: "staged" });
        if (settled.action !== "rolled_forward") throw commitFailure(root, settled, e);
      }
      faultPoint("before_complete");
      if (hooks.afterCommit) await hooks.afterCommit(plan);
      // Removed only once completion is recorded: a crash before this is finished (and audited) on the next start.
      if (!settled) await unlink(join(root, STATE_DIR, JOURNAL));
      return { ...result, noop: false, files: journal.files.map(({ alias, sha256 }) => ({ alias, sha256 })) };
    },
    { timeoutMs: options.lockTimeoutMs },
  );
}

/** True when a crash left work for `recoverInterrupted` (a journal under .registry). Cheap: one stat. */
export function needsRecovery(root: string): boolean {
  return existsSync(join(root, STATE_DIR, JOURNAL));
}

/**
 * Ends a change that a crash interrupted, under the registry lock, and removes its journal: finishes it
 * when every alias can take its journalled, verified temp file (the pair ends complete and new); abandons
 * it when an alias cannot be replaced (a folder stands there, a temp file is gone) and none has changed
 * yet; finishes what it can and reports "incomplete" when one already had. Sets aside a journal it cannot
 * read or trust. Removes stray temp files. Returns null when there was nothing to do. Never leaves a
 * journal behind, so each interruption is resolved, and reported, exactly once.
 */
export async function recoverInterrupted(
  root: string,
  hooks: Pick<ApplyHooks, "onRecovered"> & { underLock?: () => Promise<void> } = {},
): Promise<Recovery | null> {
  return withRegistryLock(root, async () => {
    const recovery = await recoverUnlocked(root);
    if (recovery && hooks.onRecovered) await hooks.onRecovered(recovery);
    if (hooks.underLock) await hooks.underLock();
    return recovery;
  });
}

async function recoverUnlocked(root: string): Promise<Recovery | null> {
  const read = await readJournal(root);
  if (read === null) {
    // Temp files with no journal are not ours to finish (the journal is written before any): just drop them.
    await removeTemps(root);
    return null;
  }
  if (typeof read === "string") return setAside(root, read);
  return settle(root, read);
}

/** Where one journalled alias stands: already holding the new bytes, blocked (and why), or ready to rename. */
interface Step {
  file: JournalFile;
  done: boolean;
  stuck: string | null;
}

/**
 * Brings a journalled change to one deterministic end and removes its journal: every rename that can be
 * done is done, unless none has happened yet and one cannot be (then none is, and the old pair stays).
 */
async function settle(root: string, journal: Journal): Promise<Recovery> {
  if (journal.state !== "staged") return close(root, journal, "cleaned", null);
  const steps: Step[] = [];
  for (const file of journal.files) steps.push(await stepOf(root, file));
  // Changed by this change: an alias that now holds new bytes it did not hold before.
  const changed = () => steps.some((s) => s.done && s.file.previousSha256 !== s.file.sha256);
  if (!(steps.some((s) => s.stuck) && !changed())) {
    for (const step of steps) {
      if (step.done || step.stuck) continue;
      try {
        await rename(join(root, step.file.temp), join(root, step.file.alias));
        step.done = true;
      } catch (e) {
        step.stuck = aliasObstacle(root, step.file.alias) ?? `${step.file.alias} could not be replaced (${errnoOf(e)})`;
        // Nothing changed yet: stop here, so the old pair stays whole rather than half replaced.
        if (!changed()) break;
      }
    }
  }
  const stuck = steps.filter((s) => s.stuck !== null);
  const action = stuck.length === 0 ? "rolled_forward" : changed() ? "incomplete" : "cleaned";
  return close(root, journal, action, stuck.length ? stuck.map((s) => s.stuck).join("; ") : null);
}

async function stepOf(root: string, file: JournalFile): Promise<Step> {
  if ((await hashOf(join(root, file.alias))) === file.sha256) return { file, done: true, stuck: null };
  const obstacle = aliasObstacle(root, file.alias);
  if (obstacle) return { file, done: false, stuck: obstacle };
  if ((await hashOf(join(root, file.temp))) !== file.sha256) {
    return { file, done: false, stuck: `the new file for ${file.alias} (${file.temp}) is gone or no longer holds the staged bytes` };
  }
  return { file, done: false, stuck: null };
}

/** sha256 of a regular file (never through a link), or null for anything else. */
async function hashOf(path: string): Promise<string | null> {
  const check = await checkRegularFile(path);
  if (!check.ok) return null;
  return hashFile(path, check.stats).catch(() => null);
}

async function close(root: string, journal: Journal, action: Recovery["action"], reason: string | null): Promise<Recovery> {
  const removedTemps = await removeTemps(root);
  await syncDirs(root);
  await unlink(join(root, STATE_DIR, JOURNAL));
  return { journal, action, reason, removedTemps };
}

/** Moves an unreadable or untrustworthy journal aside (kept for a person to read) and removes temp files. */
async function setAside(root: string, why: string): Promise<Recovery> {
  const dir = join(root, STATE_DIR);
  const kept = `journal.unreadable-${new Date().toISOString().replace(/[:.]/g, "-")}.json`;
  await rename(join(dir, JOURNAL), join(dir, kept));
  const removedTemps = await removeTemps(root);
  await Promise.all([syncDirs(root), syncDir(dir)]);
  return {
    journal: null,
    action: "set_aside",
    reason: `${why} It was kept as ${STATE_DIR}/${kept}; the aliases were left as they were.`,
    removedTemps,
  };
}

/** The error a failed rename ends in, once settle has ended the change. */
function commitFailure(root: string, settled: Recovery, cause: unknown): RegistryError {
  const journal = settled.journal as Journal;
  const blocked = journal.files.some((f) => aliasObstacle(root, f.alias) !== null);
  const message =
    settled.action === "incomplete"
      ? `The change was only partly made: ${settled.reason}. Production is now an inconsistent pair: move what blocks it away, then promote ${journal.to} again.`
      : `Could not replace the production aliases: ${settled.reason}. Nothing was changed: production was left as it was.`;
  return blocked ? new AliasBlockedError(message, { cause }) : new WriteFailedError(message, { cause });
}

async function assertProductionUnchanged(root: string, plan: Plan): Promise<void> {
  const [model, metrics] = await Promise.all([readAlias(root, MODEL_ALIAS), readAlias(root, METRICS_ALIAS)]);
  if (model.sha256 !== plan.current.sha256 || metrics.sha256 !== plan.current.metricsSha256) {
    throw new ProductionChangedError(plan.current.sha256, model.sha256);
  }
}

async function stage(root: string, plan: Plan, journal: Journal): Promise<void> {
  for (const [i, f] of plan.files.entries()) {
    const temp = journal.files[i]?.temp as string;
    await copyVerified(join(root, f.source), join(root, temp), f.newSha256, f.source);
    faultPoint(f.alias === MODEL_ALIAS ? "after_stage_model" : "after_stage_metrics");
  }
}

/**
 * Copies `src` to a new file `dest`, fsyncs it, and refuses bytes other than the plan's. When the opened
 * source's stat identity is one whose sha256 is already known (hashed by this or an earlier run, and
 * settled since), the kernel copies it (a reflink where the file system offers one, else
 * copy_file_range) and an unchanged identity afterwards proves the bytes; otherwise they are hashed as
 * they pass.
 */
async function copyVerified(src: string, dest: string, expected: string, label: string): Promise<void> {
  let input: Awaited<ReturnType<typeof openRegular>>;
  try {
    input = await openRegular(src);
  } catch (e) {
    throw new SourceChangedError(`${label} can no longer be read (${(e as NodeJS.ErrnoException).code}): nothing was written.`);
  }
  if (knownHash(input.stats) === expected) {
    try {
      if (await copyInKernel(input, dest)) return;
    } finally {
      await input.fh.close();
    }
    input = await openRegular(src);
  }
  const output = await open(dest, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
  try {
    const hash = nodeCrypto().createHash("sha256");
    // Two buffers: while one chunk is written (and the next read) in the thread pool, it is hashed here.
    let [current, spare] = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
    let { bytesRead } = await input.fh.read(current, 0, CHUNK, null);
    while (bytesRead > 0) {
      const chunk = current.subarray(0, bytesRead);
      faultPoint("enospc_during_copy");
      const written = output.write(chunk);
      const next = input.fh.read(spare, 0, CHUNK, null);
      hash.update(chunk);
      await written;
      ({ bytesRead } = await next);
      [current, spare] = [spare, current];
    }
    await output.sync();
    if (hash.digest("hex") !== expected) {
      throw new SourceChangedError(`${label} changed since the plan was made: nothing was written. Review and plan again.`);
    }
  } finally {
    await Promise.all([input.fh.close(), output.close()]);
  }
}

/**
 * Copies an opened source to `dest` inside the kernel and fsyncs it. True when done and the source kept
 * its identity throughout; false (nothing left behind) when the source changed meanwhile or this system
 * has no /proc to name the open file by.
 */
async function copyInKernel(input: Awaited<ReturnType<typeof openRegular>>, dest: string): Promise<boolean> {
  // The descriptor's /proc name reopens the very file we opened and checked, whatever the path names now.
  const opened = `/proc/self/fd/${input.fh.fd}`;
  faultPoint("enospc_during_copy");
  try {
    await copyFile(opened, dest, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT" || existsSync(dest)) throw e;
    return false;
  }
  const after = await input.fh.stat();
  const output = await open(dest, "r+");
  try {
    if (identityOf(after) !== identityOf(input.stats) || (await output.stat()).size !== input.stats.size) {
      await unlink(dest);
      return false;
    }
    await output.chmod(0o644);
    await output.sync();
    return true;
  } finally {
    await output.close();
  }
}

async function commit(root: string, journal: Journal): Promise<void> {
  for (const f of journal.files) {
    await rename(join(root, f.temp), join(root, f.alias));
    faultPoint(f.alias === MODEL_ALIAS ? "after_rename_model" : "after_rename_metrics");
  }
  await syncDirs(root);
}

async function discard(root: string, journal: Journal): Promise<void> {
  await Promise.all(journal.files.map((f) => unlink(join(root, f.temp)).catch(() => undefined)));
  await unlink(join(root, STATE_DIR, JOURNAL)).catch(() => undefined);
}

async function writeJournal(root: string, journal: Journal): Promise<void> {
  const dir = join(root, STATE_DIR);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `${JOURNAL}.${process.pid}.tmp`);
  const fh = await open(temp, "w", 0o644);
  try {
    await fh.writeFile(JSON.stringify(journal));
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(temp, join(dir, JOURNAL));
  await syncDir(dir);
}

/**
 * The journal, null when there is none, or why it cannot be acted on (a string): unreadable, not JSON,
 * or naming files other than the two aliases and temp files beside them (a journal is written by rename,
 * so it is whole or absent; anything else was not written by us, and we rename nothing it names).
 */
async function readJournal(root: string): Promise<Journal | null | string> {
  let text: string;
  try {
    text = await readFile(join(root, STATE_DIR, JOURNAL), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    return `The promotion journal ${STATE_DIR}/${JOURNAL} could not be read (${errnoOf(e)}).`;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return `The promotion journal ${STATE_DIR}/${JOURNAL} is not valid JSON.`;
  }
  return journalOf(value) ?? `The promotion journal ${STATE_DIR}/${JOURNAL} does not describe a change of ours.`;
}

/** A parsed journal checked field by field, or null. */
function journalOf(v: unknown): Journal | null {
  const j = v as Partial<Journal> | null;
  if (typeof j !== "object" || j === null) return null;
  if ((j.state !== "staging" && j.state !== "staged") || (j.kind !== "promote" && j.kind !== "rollback")) return null;
  if (typeof j.to !== "string" || !(j.from === null || typeof j.from === "string") || !Array.isArray(j.files)) return null;
  const aliases = new Set<string>();
  for (const f of j.files as Partial<JournalFile>[]) {
    if (typeof f !== "object" || f === null || typeof f.sha256 !== "string" || typeof f.temp !== "string") return null;
    if ((f.alias !== MODEL_ALIAS && f.alias !== METRICS_ALIAS) || aliases.has(f.alias)) return null;
    aliases.add(f.alias);
    // A temp file of ours sits beside its alias: "<dir>/.production_latest.<name>", no further folders.
    const prefix = `${dirname(f.alias)}/${TEMP_PREFIX}`;
    if (!f.temp.startsWith(prefix) || f.temp.slice(prefix.length).includes("/")) return null;
  }
  return {
    state: j.state,
    kind: j.kind,
    tag: typeof j.tag === "string" ? j.tag : null,
    from: j.from ?? null,
    to: j.to,
    startedAt: typeof j.startedAt === "string" ? j.startedAt : "",
    pid: typeof j.pid === "number" ? j.pid : 0,
    files: j.files as JournalFile[],
  };
}

/** Removes every temp file of ours; called under the lock, so none belongs to a live writer. */
async function removeTemps(root: string): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of [MODELS_DIR, METRICS_DIR]) {
    let names: string[];
    try {
      names = await readdir(join(root, dir));
    } catch {
      continue;
    }
    for (const name of names.filter((n) => n.startsWith(TEMP_PREFIX))) {
      // Only files: a folder with such a name is not one of ours (the scan reports it).
      if (
        await unlink(join(root, dir, name)).then(
          () => true,
          () => false,
        )
      )
        removed.push(`${dir}/${name}`);
    }
  }
  return removed;
}

async function syncDirs(root: string): Promise<void> {
  await Promise.all([syncDir(join(root, MODELS_DIR)), syncDir(join(root, METRICS_DIR))]);
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function errnoOf(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? (e as Error)?.message ?? "error";
}

function writeFailure(e: unknown): WriteFailedError {
  const code = (e as NodeJS.ErrnoException).code;
  const why =
    code === "ENOSPC"
      ? "the disk is full"
      : code === "EROFS"
        ? "the registry is on a read-only file system"
        : code === "EACCES" || code === "EPERM"
          ? "permission denied on the registry folders"
          : `${code ?? (e as Error).message}`;
  return new WriteFailedError(`Could not write the new production files: ${why}. Production was left untouched.`, { cause: e });
}

/**
 * Test-only crash switch: when REGISTRY_FAULT names this step, the process kills itself right here, so the
 * crash-recovery tests can stop a real promotion between any two writes. Unset in production: a no-op.
 */
/**
 * Tests only: with REGISTRY_FAULT=pause:STEP the change stops at STEP, holding the lock, until the marker
 * file .registry/paused-STEP it wrote is removed (to take the database away at that moment, say).
 */
async function pausePoint(root: string, step: string): Promise<void> {
  if (process.env.REGISTRY_FAULT !== `pause:${step}`) return;
  const marker = join(root, STATE_DIR, `paused-${step}`);
  await writeFile(marker, String(process.pid));
  while (existsSync(marker)) await new Promise((r) => setTimeout(r, 20));
}

function faultPoint(step: string): void {
  if (process.env.REGISTRY_FAULT !== step) return;
  // A disk that fills up mid-copy fails the write; every other fault point is a crash.
  if (step === "enospc_during_copy") throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
  process.kill(process.pid, "SIGKILL");
}
