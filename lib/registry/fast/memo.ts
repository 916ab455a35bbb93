import { COMPACT_TIMESTAMP, searchByTimestamp } from "../names";
import type { FileStamp, ListedVersion, ProblemCode } from "../types";

// Numbers kept per version: the metrics file's stamp, score and metric (as an index into metricNames),
// then the model file's stamp. A stamp is device, inode, size, mtime, ctime; NaN means "not known".
const STAMP = 5;
const SCORE = STAMP;
const METRIC = STAMP + 1;
const MODEL = STAMP + 2;
const WIDTH = MODEL + STAMP;
// The reading rule is part of the format: 6 lists a name only when it can be named (names.ts) and reads
// deeply nested files that 5 called invalid JSON, so a memo of 5 is read again from the files.
export const MEMO_FORMAT = 6;
/** Per version, the hex sha256 of its metrics file then of its model file (zeros when not known). */
const SHA = 64;
const SHAS = 2 * SHA;
const NO_SHA = "0".repeat(SHA);
const MAX_SEARCHES = 64;
const HEADER = 16;

/** What a metrics file said, as a scan needs it: its sha256 and score, or why it is unusable. */
export interface MetricsFacts {
  sha256: string;
  score: number;
  metric: string;
  problem: [ProblemCode, string] | null;
}

/** The small part of an encoded memo, as JSON; everything per version is binary or fixed-width text. */
interface Header {
  dirs: string;
  metricNames: string[];
  problems: Record<number, [ProblemCode, string]>;
  /** The model types of the listing saved with the memo (indexed per version), or null without one. */
  modelTypes: string[] | null;
  extra: unknown;
}

/**
 * What a scan saw of each listed version's files, kept between CLI runs so that an unchanged file costs
 * one lstat and no read: the stat stamp of its metrics file with the sha256 and score read from it, and
 * the stamp and sha256 of its model file. A fact is used only while the file's stamp is exactly the one
 * recorded, and recorded only for a settled file (see settledAt), so nothing is trusted blindly.
 * Encoded as a few flat regions (numbers, fixed-width hashes, names) so that loading 20,000 entries is a
 * handful of copies rather than a parse of 20,000 objects.
 */
export class ScanMemo {
  private byStem: Map<string, number> | undefined;
  private searches = 0;
  /** False until something differs from the memo this one was started from. */
  changed = false;

  private constructor(
    /** The listing's folder identities (see Listing.dirs). */
    readonly dirs: string,
    /** The listed versions, in listing order: entry i describes stems[i]. */
    readonly stems: readonly string[],
    private readonly nums: Float64Array,
    /** SHAS characters per entry, as decoded; hashes set since live in the two arrays below. */
    private readonly shaText: string,
    private readonly metricsShas: (string | undefined)[],
    private readonly modelShas: (string | undefined)[],
    private readonly metricNames: string[],
    private readonly problems: Record<number, [ProblemCode, string]>,
  ) {}

  /** A memo for a listing, knowing nothing yet. */
  static empty(dirs: string, stems: readonly string[]): ScanMemo {
    const nums = new Float64Array(stems.length * WIDTH).fill(Number.NaN);
    return new ScanMemo(dirs, stems, nums, "", new Array(stems.length), new Array(stems.length), [], {});
  }

  /**
   * A memo for a listing that starts out knowing what `prior` knew: wholesale when the listing is the one
   * `prior` was made from, else stem by stem. Facts carried over are still checked against each file on use.
   */
  static from(prior: ScanMemo | null, dirs: string, stems: readonly string[]): ScanMemo {
    if (prior && prior.dirs === dirs && prior.stems.length === stems.length) {
      const problems = { ...prior.problems };
      const { shaText, metricsShas, modelShas } = prior;
      return new ScanMemo(
        dirs,
        stems,
        prior.nums.slice(),
        shaText,
        metricsShas.slice(),
        modelShas.slice(),
        [...prior.metricNames],
        problems,
      );
    }
    const memo = ScanMemo.empty(dirs, stems);
    memo.changed = true;
    if (prior) for (let i = 0; i < stems.length; i++) memo.carry(prior, prior.indexOf(stems[i] as string, i), i);
    return memo;
  }

  /** The position of `stem`, trying `hint` first (the same position in an unchanged listing); -1 if absent. */
  indexOf(stem: string, hint: number): number {
    if (this.stems[hint] === stem) return hint;
    // A listing is in timestamp order and a stem ends with its timestamp, so a few lookups (a plan's two
    // of 20,000 versions, a new version or two) are binary searches; many build a map of every stem.
    // (A memo not in listing order, which only a test makes, finds nothing by search and uses the map.)
    if (this.byStem === undefined && this.searches++ < MAX_SEARCHES) {
      const found = searchByTimestamp(this.stems.length, (k) => this.stems[k] as string, stem);
      if (found >= 0) return found;
    }
    this.byStem ??= new Map(this.stems.map((s, i) => [s, i]));
    return this.byStem.get(stem) ?? -1;
  }

  /** True when `st` is still exactly the metrics file entry i was read from (then the getters below hold). */
  metricsHold(i: number, st: FileStamp): boolean {
    return i >= 0 && this.matches(i * WIDTH, st);
  }

  /** metricsHold for a stamp held as five numbers of `rows` from `at` (see lstatNames). */
  metricsHoldAt(i: number, rows: Float64Array, at: number): boolean {
    if (i < 0) return false;
    const n = this.nums;
    const k = i * WIDTH;
    return (
      n[k] === rows[at] && n[k + 1] === rows[at + 1] && n[k + 2] === rows[at + 2] && n[k + 3] === rows[at + 3] && n[k + 4] === rows[at + 4]
    );
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
    return this.metricsShas[i] ?? this.shaAt(i, 0);
  }

  /** The entries whose metrics file had this sha256 (each valid only while metricsHold). */
  withMetricsSha256(sha256: string): number[] {
    const out: number[] = [];
    this.metricsShas.forEach((metrics, i) => {
      if (metrics === sha256) out.push(i);
    });
    if (sha256.length !== SHA) return out;
    for (let at = this.shaText.indexOf(sha256); at >= 0; at = this.shaText.indexOf(sha256, at + 1)) {
      if (at % SHAS === 0 && this.metricsShas[at / SHAS] === undefined) out.push(at / SHAS);
    }
    return out.sort((a, b) => a - b);
  }

  /** Why entry i's metrics file is unusable, or null. */
  problem(i: number): [ProblemCode, string] | null {
    return this.problems[i] ?? null;
  }

  /** Entry i's model sha256, if `st` is still exactly the file it was hashed from. */
  model(i: number, st: FileStamp): string | undefined {
    if (i < 0 || !this.matches(i * WIDTH + MODEL, st)) return undefined;
    return this.modelShas[i] ?? this.shaAt(i, 1);
  }

  /** Records what entry i's metrics file said when read through `st`. Mutates this memo. */
  setMetrics(i: number, st: FileStamp, facts: MetricsFacts): void {
    // Only a sha256's 64 characters fit the fixed-width encoding; anything else is simply not remembered.
    if (facts.sha256.length !== SHA) return;
    this.stamp(i * WIDTH, st);
    this.setMetricsFacts(i, facts);
  }

  /** setMetrics with the stamp at rows[at..at+4] (dev, ino, size, mtimeMs, ctimeMs; see lstatNames). */
  setMetricsAt(i: number, rows: Float64Array, at: number, facts: MetricsFacts): void {
    if (facts.sha256.length !== SHA) return;
    const n = this.nums;
    const k = i * WIDTH;
    n[k] = rows[at] as number;
    n[k + 1] = rows[at + 1] as number;
    n[k + 2] = rows[at + 2] as number;
    n[k + 3] = rows[at + 3] as number;
    n[k + 4] = rows[at + 4] as number;
    this.setMetricsFacts(i, facts);
  }

  private setMetricsFacts(i: number, facts: MetricsFacts): void {
    const at = i * WIDTH;
    let name = this.metricNames.indexOf(facts.metric);
    if (name < 0) name = this.metricNames.push(facts.metric) - 1;
    this.nums[at + SCORE] = facts.score;
    this.nums[at + METRIC] = name;
    this.setSha(i, 0, facts.sha256);
    if (facts.problem) this.problems[i] = facts.problem;
    else delete this.problems[i];
    this.changed = true;
  }

  /** Records the sha256 of entry i's model file, hashed through `st`. Mutates this memo. */
  setModel(i: number, st: FileStamp, sha256: string): void {
    if (sha256.length !== SHA) return;
    this.stamp(i * WIDTH + MODEL, st);
    this.setSha(i, 1, sha256);
    this.changed = true;
  }

  private setSha(i: number, which: 0 | 1, sha256: string): void {
    (which === 0 ? this.metricsShas : this.modelShas)[i] = sha256;
  }

  private shaAt(i: number, which: 0 | 1): string {
    const from = i * SHAS + which * SHA;
    return from + SHA <= this.shaText.length ? this.shaText.slice(from, from + SHA) : NO_SHA;
  }

  private carry(from: ScanMemo, j: number, i: number): void {
    if (j < 0) return;
    this.nums.set(from.nums.subarray(j * WIDTH, (j + 1) * WIDTH), i * WIDTH);
    this.metricsShas[i] = from.metricsSha256(j);
    this.modelShas[i] = from.modelShas[j] ?? from.shaAt(j, 1);
    const name = from.metricNames[from.nums[j * WIDTH + METRIC] as number];
    if (name !== undefined) {
      let k = this.metricNames.indexOf(name);
      if (k < 0) k = this.metricNames.push(name) - 1;
      this.nums[i * WIDTH + METRIC] = k;
    }
    const problem = from.problems[j];
    if (problem) this.problems[i] = problem;
  }

  /**
   * The memo, `extra` (any JSON) and the listing it is aligned with (if any) as one buffer: a short JSON
   * header, then per-version regions: the numbers, the hashes, model types, "has metrics", stems.
   */
  encode(extra: unknown, listing: readonly ListedVersion[] | null = null): Buffer {
    const n = this.stems.length;
    // Saved only when it is the memo's own listing (same stems, same order): each version's model type as an
    // index into the distinct ones, and whether it has a metrics file.
    let modelTypes: string[] | null = null;
    const typeOf = new Uint16Array(listing ? n : 0);
    const has = new Uint8Array(listing ? n : 0);
    if (listing?.length === n && listing.every((v, i) => v[0] === this.stems[i])) {
      const index = new Map<string, number>();
      for (const [i, [, type, , hasMetrics]] of listing.entries()) {
        const k = index.get(type) ?? index.size;
        if (k === index.size) index.set(type, k);
        typeOf[i] = k;
        has[i] = hasMetrics ? 1 : 0;
      }
      modelTypes = index.size <= 0xffff ? [...index.keys()] : null;
    }
    const header: Header = { dirs: this.dirs, metricNames: this.metricNames, problems: this.problems, modelTypes, extra };
    const json = Buffer.from(JSON.stringify(header), "utf8");
    const stems = Buffer.from(this.stems.join("\0"), "utf8");
    const layout = regions(json.length, n, modelTypes !== null, stems.length);
    const out = Buffer.alloc(layout.end);
    out.writeUInt32LE(MEMO_FORMAT, 0);
    out.writeUInt32LE(n, 4);
    out.writeUInt32LE(json.length, 8);
    out.writeUInt32LE(stems.length, 12);
    json.copy(out, HEADER);
    Buffer.from(this.nums.buffer, this.nums.byteOffset, this.nums.byteLength).copy(out, layout.nums);
    const shas = new Array<string>(2 * n);
    for (let i = 0; i < n; i++) {
      shas[2 * i] = this.metricsShas[i] ?? this.shaAt(i, 0);
      shas[2 * i + 1] = this.modelShas[i] ?? this.shaAt(i, 1);
    }
    out.write(shas.join(""), layout.shas, "latin1");
    if (modelTypes) {
      // In the machine's byte order, like the numbers: a cache is read where it was written.
      Buffer.from(typeOf.buffer).copy(out, layout.types);
      out.set(has, layout.has);
    }
    stems.copy(out, layout.stems);
    return out;
  }

  /** Reads what `encode` wrote; null for anything else (another format, a torn or foreign file). */
  static decode(buf: Buffer): { memo: ScanMemo; extra: unknown; listing: ListedVersion[] | null } | null {
    if (buf.length < HEADER || buf.readUInt32LE(0) !== MEMO_FORMAT) return null;
    const n = buf.readUInt32LE(4);
    const jsonLength = buf.readUInt32LE(8);
    const stemsLength = buf.readUInt32LE(12);
    let header: Header;
    try {
      header = JSON.parse(buf.toString("utf8", HEADER, HEADER + jsonLength)) as Header;
    } catch {
      return null;
    }
    const aligned = Array.isArray(header.modelTypes);
    const layout = regions(jsonLength, n, aligned, stemsLength);
    if (layout.end !== buf.length || !Array.isArray(header.metricNames)) return null;
    const stems = n === 0 ? [] : buf.toString("utf8", layout.stems, layout.end).split("\0");
    if (stems.length !== n) return null;
    // Copied out into an aligned array of its own (a file buffer's offset need not be a multiple of 8).
    const nums = new Float64Array(n * WIDTH);
    Buffer.from(nums.buffer).set(buf.subarray(layout.nums, layout.shas));
    const shaText = buf.toString("latin1", layout.shas, layout.shas + n * SHAS);
    const memo = new ScanMemo(header.dirs, stems, nums, shaText, new Array(n), new Array(n), header.metricNames, header.problems ?? {});
    let listing: ListedVersion[] | null = null;
    if (aligned) {
      const types = header.modelTypes as string[];
      const typeIndex = new Uint16Array(n);
      Buffer.from(typeIndex.buffer).set(buf.subarray(layout.types, layout.types + 2 * n));
      listing = new Array(n);
      for (let i = 0; i < n; i++) {
        const type = types[typeIndex[i] as number];
        if (type === undefined) return null;
        const stem = stems[i] as string;
        // The compact timestamp is the stem's own end (see ListedVersion).
        listing[i] = [stem, type, stem.slice(-COMPACT_TIMESTAMP), buf[layout.has + i] === 1];
      }
    }
    return { memo, extra: header.extra, listing };
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

/** Byte offsets of an encoded memo's regions (the numbers 8-aligned, for a straight copy). */
function regions(jsonLength: number, n: number, aligned: boolean, stemsLength: number) {
  const nums = Math.ceil((HEADER + jsonLength) / 8) * 8;
  const shas = nums + n * WIDTH * 8;
  const types = shas + n * SHAS;
  const has = types + (aligned ? 2 * n : 0);
  const stems = has + (aligned ? n : 0);
  return { nums, shas, types, has, stems, end: stems + stemsLength };
}
