import { constants, existsSync } from "node:fs";
import { copyFile, mkdir, open, readdir, readFile, rename, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { nodeCrypto } from "./builtins";
import { ProductionChangedError, RefusedError, RegistryError, SourceChangedError, WriteFailedError } from "./errors";
import { checkRegularFile, hashFile, identityOf, knownHash, openRegular } from "./files";
import { STATE_DIR, withRegistryLock } from "./lock";
import type { Plan } from "./plan";
import { METRICS_ALIAS, METRICS_DIR, MODEL_ALIAS, MODELS_DIR, readAlias, TEMP_PREFIX } from "./scan";

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
  files: { temp: string; alias: string; sha256: string }[];
}

export interface Recovery {
  journal: Journal;
  /** "rolled_forward": an interrupted change was completed; "cleaned": it was abandoned before any alias changed. */
  action: "rolled_forward" | "cleaned";
  removedTemps: string[];
}

/**
 * Applies a plan: under the registry lock, re-checks that production is what the plan saw, copies the
 * target's files to temp files beside the aliases (hashing while copying, refusing a changed source),
 * fsyncs them, journals the intent, renames each over its alias and fsyncs the folders. Never writes
 * through an existing alias (a rename replaces the link itself). On any failure before the renames it
 * removes its temp files and leaves production untouched.
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
        })),
      };
      // The journal exists before any temp file does, so a crash never leaves one that nobody will find.
      try {
        await writeJournal(root, journal);
        await stage(root, plan, journal);
        await writeJournal(root, { ...journal, state: "staged" });
        faultPoint("after_journal");
        if (hooks.beforeCommit) await hooks.beforeCommit(plan);
      } catch (e) {
        await discard(root, journal);
        if (e instanceof RegistryError) throw e;
        throw writeFailure(e);
      }
      faultPoint("after_intent");
      await commit(root, journal);
      faultPoint("before_complete");
      if (hooks.afterCommit) await hooks.afterCommit(plan);
      // Removed only once completion is recorded: a crash before this is finished (and audited) on the next start.
      await unlink(join(root, STATE_DIR, JOURNAL));
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
 * Finishes or cleans up a change that a crash interrupted, under the registry lock: renames the journalled,
 * verified temp files over their aliases (the pair ends complete and new), removes stray temp files.
 * Returns null when there was nothing to do.
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
  const journal = await readJournal(root);
  if (!journal) {
    // Temp files with no journal are not ours to finish (the journal is written before any): just drop them.
    await removeTemps(root);
    return null;
  }
  let action: Recovery["action"] = "cleaned";
  if (journal.state === "staged") {
    // Every temp was complete before the journal said "staged": finish the renames.
    for (const f of journal.files) {
      const temp = join(root, f.temp);
      const check = await checkRegularFile(temp);
      if (check.ok && (await hashFile(temp, check.stats)) === f.sha256) await rename(temp, join(root, f.alias));
    }
    action = "rolled_forward";
  }
  const removedTemps = await removeTemps(root);
  await syncDirs(root);
  await unlink(join(root, STATE_DIR, JOURNAL));
  return { journal, action, removedTemps };
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

async function readJournal(root: string): Promise<Journal | null> {
  try {
    return JSON.parse(await readFile(join(root, STATE_DIR, JOURNAL), "utf8")) as Journal;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    // A journal is written by rename, so it is whole or absent; anything else is not ours to act on.
    throw new WriteFailedError(`The promotion journal ${STATE_DIR}/${JOURNAL} is unreadable: inspect it by hand.`);
  }
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
      await unlink(join(root, dir, name)).catch(() => undefined);
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
function faultPoint(step: string): void {
  if (process.env.REGISTRY_FAULT !== step) return;
  // A disk that fills up mid-copy fails the write; every other fault point is a crash.
  if (step === "enospc_during_copy") throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
  process.kill(process.pid, "SIGKILL");
}
