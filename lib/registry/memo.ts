import type { FileStamp } from "./batch";
import type { ProblemCode } from "./scan";

// Numbers kept per version: the metrics file's stamp, score and metric (as an index into metricNames),
// then the model file's stamp. A stamp is device, inode, size, mtime, ctime; NaN means "not known".
const STAMP = 5;
const SCORE = STAMP;
const METRIC = STAMP + 1;
const MODEL = STAMP + 2;
const WIDTH = MODEL + STAMP;
const FORMAT = 3;

/** What a metrics file said, as a scan needs it: its sha256 and score, or why it is unusable. */
export interface MetricsFacts {
  sha256: string;
  score: number;
  metric: string;
  problem: [ProblemCode, string] | null;
}

interface Strings {
  v: number;
  dirs: string;
  stems: string[];
  metricsSha: string[];
  modelSha: string[];
  metricNames: string[];
  problems: Record<number, [ProblemCode, string]>;
  extra: unknown;
}

/**
 * What a scan saw of each listed version's files, kept between CLI runs so that an unchanged file costs
 * one lstat and no read: the stat stamp of its metrics file with the sha256 and score read from it, and
 * the stamp and sha256 of its model file. A fact is used only while the file's stamp is exactly the one
 * recorded, and recorded only for a settled file (see settledAt), so nothing is trusted blindly. The
 * numbers live in one Float64Array, so loading 20,000 entries is a copy rather than a parse.
 */
export class ScanMemo {
  private byStem: Map<string, number> | undefined;
  /** False until something differs from the memo this one was started from. */
  changed = false;

  private constructor(
    /** The listing's folder identities (see Listing.dirs). */
    readonly dirs: string,
    /** The listed versions, in listing order: entry i describes stems[i]. */
    readonly stems: readonly string[],
    private readonly nums: Float64Array,
    private readonly metricsSha: string[],
    private readonly modelSha: string[],
    private readonly metricNames: string[],
    private readonly problems: Record<number, [ProblemCode, string]>,
  ) {}

  /** A memo for a listing, knowing nothing yet. */
  static empty(dirs: string, stems: readonly string[]): ScanMemo {
    const nums = new Float64Array(stems.length * WIDTH).fill(Number.NaN);
    return new ScanMemo(dirs, stems, nums, new Array(stems.length).fill(""), new Array(stems.length).fill(""), [], {});
  }

  /**
   * A memo for a listing that starts out knowing what `prior` knew: wholesale when the listing is the one
   * `prior` was made from, else stem by stem. Facts carried over are still checked against each file on use.
   */
  static from(prior: ScanMemo | null, dirs: string, stems: readonly string[]): ScanMemo {
    if (prior && prior.dirs === dirs && prior.stems.length === stems.length) {
      const problems = { ...prior.problems };
      return new ScanMemo(dirs, stems, prior.nums.slice(), [...prior.metricsSha], [...prior.modelSha], [...prior.metricNames], problems);
    }
    const memo = ScanMemo.empty(dirs, stems);
    memo.changed = true;
    if (prior) for (let i = 0; i < stems.length; i++) memo.carry(prior, prior.indexOf(stems[i] as string, i), i);
    return memo;
  }

  /** The position of `stem`, trying `hint` first (the same position in an unchanged listing); -1 if absent. */
  indexOf(stem: string, hint: number): number {
    if (this.stems[hint] === stem) return hint;
    this.byStem ??= new Map(this.stems.map((s, i) => [s, i]));
    return this.byStem.get(stem) ?? -1;
  }

  /** True when `st` is still exactly the metrics file entry i was read from (then the getters below hold). */
  metricsHold(i: number, st: FileStamp): boolean {
    return i >= 0 && this.matches(i * WIDTH, st);
  }

  /** Entry i's score (valid while metricsHold). */
  score(i: number): number {
    return this.nums[i * WIDTH + SCORE] as number;
  }

  /** The metric entry i's score is (valid while metricsHold). */
  metric(i: number): string {
    return this.metricNames[this.nums[i * WIDTH + METRIC] as number] as string;
  }

  /** The sha256 of entry i's metrics file (valid while metricsHold). */
  metricsSha256(i: number): string {
    return this.metricsSha[i] as string;
  }

  /** Why entry i's metrics file is unusable, or null. */
  problem(i: number): [ProblemCode, string] | null {
    return this.problems[i] ?? null;
  }

  /** Entry i's model sha256, if `st` is still exactly the file it was hashed from. */
  model(i: number, st: FileStamp): string | undefined {
    return i >= 0 && this.matches(i * WIDTH + MODEL, st) ? this.modelSha[i] : undefined;
  }

  /** Records what entry i's metrics file said when read through `st`. Mutates this memo. */
  setMetrics(i: number, st: FileStamp, facts: MetricsFacts): void {
    const at = i * WIDTH;
    this.stamp(at, st);
    let name = this.metricNames.indexOf(facts.metric);
    if (name < 0) name = this.metricNames.push(facts.metric) - 1;
    this.nums[at + SCORE] = facts.score;
    this.nums[at + METRIC] = name;
    this.metricsSha[i] = facts.sha256;
    if (facts.problem) this.problems[i] = facts.problem;
    else delete this.problems[i];
    this.changed = true;
  }

  /** Records the sha256 of entry i's model file, hashed through `st`. Mutates this memo. */
  setModel(i: number, st: FileStamp, sha256: string): void {
    this.stamp(i * WIDTH + MODEL, st);
    this.modelSha[i] = sha256;
    this.changed = true;
  }

  private carry(from: ScanMemo, j: number, i: number): void {
    if (j < 0) return;
    this.nums.set(from.nums.subarray(j * WIDTH, (j + 1) * WIDTH), i * WIDTH);
    this.metricsSha[i] = from.metricsSha[j] as string;
    this.modelSha[i] = from.modelSha[j] as string;
    const name = from.metricNames[from.nums[j * WIDTH + METRIC] as number];
    if (name !== undefined) {
      let k = this.metricNames.indexOf(name);
      if (k < 0) k = this.metricNames.push(name) - 1;
      this.nums[i * WIDTH + METRIC] = k;
    }
    const problem = from.problems[j];
    if (problem) this.problems[i] = problem;
  }

  /** The memo and `extra` (any JSON) as one buffer: a JSON part for strings, then the numbers. */
  encode(extra: unknown): Buffer {
    const strings: Strings = {
      v: FORMAT,
      dirs: this.dirs,
      stems: [...this.stems],
      metricsSha: this.metricsSha,
      modelSha: this.modelSha,
      metricNames: this.metricNames,
      problems: this.problems,
      extra,
    };
    const json = Buffer.from(JSON.stringify(strings), "utf8");
    const padded = Math.ceil(json.length / 8) * 8;
    const out = Buffer.alloc(8 + padded + this.nums.byteLength);
    out.writeUInt32LE(FORMAT, 0);
    out.writeUInt32LE(json.length, 4);
    json.copy(out, 8);
    Buffer.from(this.nums.buffer, this.nums.byteOffset, this.nums.byteLength).copy(out, 8 + padded);
    return out;
  }

  /** Reads what `encode` wrote; null for anything else (another format, a torn or foreign file). */
  static decode(buf: Buffer): { memo: ScanMemo; extra: unknown } | null {
    if (buf.length < 8 || buf.readUInt32LE(0) !== FORMAT) return null;
    const jsonLength = buf.readUInt32LE(4);
    const start = 8 + Math.ceil(jsonLength / 8) * 8;
    if (start > buf.length) return null;
    let s: Strings;
    try {
      s = JSON.parse(buf.toString("utf8", 8, 8 + jsonLength)) as Strings;
    } catch {
      return null;
    }
    const n = s.stems?.length ?? -1;
    if (s.v !== FORMAT || buf.length - start !== n * WIDTH * 8 || s.metricsSha.length !== n || s.modelSha.length !== n) return null;
    // Copied out into an aligned array of its own (a file buffer's offset need not be a multiple of 8).
    const nums = new Float64Array(n * WIDTH);
    Buffer.from(nums.buffer).set(buf.subarray(start));
    return { memo: new ScanMemo(s.dirs, s.stems, nums, s.metricsSha, s.modelSha, s.metricNames, s.problems ?? {}), extra: s.extra };
  }

  private matches(at: number, st: FileStamp): boolean {
    const n = this.nums;
    return n[at] === st.dev && n[at + 1] === st.ino && n[at + 2] === st.size && n[at + 3] === st.mtimeMs && n[at + 4] === st.ctimeMs;
  }

  private stamp(at: number, st: FileStamp): void {
    this.nums[at] = st.dev;
    this.nums[at + 1] = st.ino;
    this.nums[at + 2] = st.size;
    this.nums[at + 3] = st.mtimeMs;
    this.nums[at + 4] = st.ctimeMs;
  }
}
