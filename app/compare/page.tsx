import type { Metadata } from "next";
import Link from "next/link";
import { z } from "zod";
import { DiffOnlySwitch } from "@/components/diff-only-switch";
import { InvalidInputError, type Snapshot, type Version, validateVersionName } from "@/lib/registry";
import { eachWithDocument, loadSnapshot } from "@/lib/server/registry";
import { requirePage } from "@/lib/server/session";
import { Comparer, type Comparison, MAX_COMPARE_ROWS } from "@/lib/views/compare";
import { fmtCount } from "@/lib/views/format";
import { compareHref, metricsHref } from "@/lib/views/links";
import { CompareTable } from "@/components/compare-table";
import { ScrollBox } from "@/components/scroll-box";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Compare" };

// More columns than this stop being readable side by side; the rest are named, not silently dropped.
const MAX_COMPARED = 12;

const paramsSchema = z.object({
  v: z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .catch([]),
  diff: z.preprocess((d) => (Array.isArray(d) ? d[0] : d), z.enum(["1"]).optional()).catch(undefined),
});


export default async function ComparePage(props: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  await requirePage("registry.read", "/compare");
  const params = paramsSchema.parse(await props.searchParams);
  const snapshot = await loadSnapshot();

  const { invalid, unknown, picked } = pickVersions(params.v, snapshot);
  const shown = picked.slice(0, MAX_COMPARED);
  const comparison = shown.length >= 1 ? await compareInTurn(snapshot, shown) : null;
  const differing = comparison?.rows.filter((r) => r.differs).length ?? 0;
  const hrefWithout = (stem: string) => compareHref(shown.filter((v) => v.stem !== stem).map((v) => v.stem));
  // Suggestions for the picker: production and best first, then the newest runs.
  const suggestions = [
    ...new Set([
      snapshot.production.stem,
      snapshot.best,
      ...snapshot.versions
        .slice(-200)
        .reverse()
        .map((v) => v.stem),
    ]),
  ].filter((s): s is string => s !== null && !shown.some((v) => v.stem === s));

  return (
    <>
      <div className="page-head">
        <h1>Compare versions</h1>
        <p className="muted">
          {shown.length < 2
            ? "Pick two or more versions: tick them in the overview table, or add them here."
            : `${shown.length} versions side by side · ${differing} of ${comparison?.rows.length ?? 0} rows differ · ★ marks the best value per metric`}
        </p>
      </div>

      <Ignored invalid={invalid} unknown={unknown} picked={picked.length} />

      <Picker shown={shown} suggestions={suggestions} production={snapshot.production.stem} best={snapshot.best} />

      {comparison && shown.length >= 1 && (
        <section className="card" aria-labelledby="compare-title">
          <h2 id="compare-title" className="sr-only">
            Comparison
          </h2>
          <DiffOnlySwitch initial={params.diff === "1"}>
            <ScrollBox label="Comparison" fit>
              <CompareTable shown={shown} comparison={comparison} hrefWithout={hrefWithout} />
            </ScrollBox>
            {differing === 0 && shown.length >= 2 && <p className="muted diff-empty">These versions are identical in every field shown.</p>}
          </DiffOnlySwitch>
          <NotShown comparison={comparison} section="metrics" noun="metrics" />
          <NotShown comparison={comparison} section="hyperparameters" noun="hyperparameters" />
        </section>
      )}
    </>
  );
}

/** The versions a link names, in order and once each; names that are malformed or unknown are kept to be named. */
function pickVersions(asked: string[], snapshot: Snapshot) {
  const byStem = new Map(snapshot.versions.map((v) => [v.stem, v]));
  const invalid: string[] = [];
  const unknown: string[] = [];
  const picked: Version[] = [];
  for (const raw of [...new Set(asked)]) {
    let stem: string;
    try {
      stem = validateVersionName(raw);
    } catch (e) {
      if (!(e instanceof InvalidInputError)) throw e;
      invalid.push(raw.slice(0, 80));
      continue;
    }
    const v = byStem.get(stem);
    if (!v) unknown.push(stem);
    else if (!picked.includes(v)) picked.push(v);
  }
  return { invalid, unknown, picked };
}

/** Names what the link asked for but the page cannot show, instead of dropping it silently. */
function Ignored({ invalid, unknown, picked }: { invalid: string[]; unknown: string[]; picked: number }) {
  if (invalid.length === 0 && unknown.length === 0 && picked <= MAX_COMPARED) return null;
  return (
    <div className="alert alert-warn" role="status">
      {invalid.length > 0 && <p>Not version names, ignored: {invalid.map((s) => `“${s}”`).join(", ")}.</p>}
      {unknown.length > 0 && <p>Not in the registry, ignored: {unknown.join(", ")}.</p>}
      {picked > MAX_COMPARED && (
        <p>
          Showing the first {MAX_COMPARED} of {picked} versions.
        </p>
      )}
    </div>
  );
}

/** Adds a version to the comparison by name (a GET form: the comparison is a link anyone can share). */
function Picker(props: { shown: readonly Version[]; suggestions: string[]; production: string | null; best: string | null }) {
  const { shown, suggestions, production, best } = props;
  return (
    <form className="card picker" method="get" action="/compare">
      {shown.map((v) => (
        <input key={v.stem} type="hidden" name="v" value={v.stem} />
      ))}
      <label className="field">
        <span>Add a version</span>
        <input name="v" list="version-options" placeholder="type or pick a version name" required className="mono" />
      </label>
      <datalist id="version-options">
        {suggestions.map((s) => (
          <option key={s} value={s} />
        ))}
      </datalist>
      <button type="submit" className="button">
        Add
      </button>
      {production && best && best !== production && (
        <Link className="button" href={compareHref([production, best])}>
          Production vs best
        </Link>
      )}
    </form>
  );
}

/** What a bounded comparison left out of a section, per version, with a download of each file. */
function NotShown(props: { comparison: Comparison; section: "metrics" | "hyperparameters"; noun: string }) {
  const counts = props.comparison.notShown[props.section];
  const missing = props.comparison.stems.flatMap((stem, i) => ((counts[i] ?? 0) > 0 ? [{ stem, count: counts[i] as number }] : []));
  if (missing.length === 0) return null;
  return (
    <div className="alert alert-warn" role="note" data-testid={`compare-more-${props.section}`}>
      <p>
        Only the first {MAX_COMPARE_ROWS} {props.noun} are compared side by side. Not shown:
      </p>
      {missing.map(({ stem, count }) => (
        <p key={stem}>
          {fmtCount(count)} more {props.noun} of <span className="mono">{stem}</span> ·{" "}
          <a href={metricsHref(stem)} download>
            Download the metrics of {stem}
          </a>
        </p>
      ))}
    </div>
  );
}

/**
 * The comparison, each document read, reduced to what the page shows and dropped before the next (a
 * metrics file may be 4 MiB), with other requests let in between two of them.
 */
async function compareInTurn(snapshot: Snapshot, versions: readonly Version[]): Promise<Comparison> {
  const comparer = new Comparer();
  for (const v of eachWithDocument(snapshot, versions)) {
    comparer.add(v);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return comparer.result();
}
