// `npm run bench`: how fast the registry is at 1k, 5k and 20k versions and 100k audit events, measured
// side by side with references in the same run (cat, the seed's Python loop, cp). Not part of `npm test`.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { generateRegistry } from "./generate.mjs";
import { waitFor } from "./util.mjs";

const repo = join(import.meta.dirname, "..");
const OUT = join(repo, "bench", "out");
const WORK = process.env.BENCH_DIR ?? "/tmp/registry-bench";
const SIZES = (process.env.BENCH_SIZES ?? "1000,5000,20000").split(",").map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** Rounds of the Python loop and the dry-runs, alternating (see main). */
const PAIRED_RUNS = Math.max(RUNS, 9);
const AUDIT_EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? 100_000);
// The command as installed (package.json "bin"): the launcher that starts Node on cli/bin.mjs.
const BIN = join(repo, "cli", "registry");
// BENCH_PORT: another port when 3299 is taken (several people benchmarking on one machine).
const PORT = Number(process.env.BENCH_PORT ?? 3299);

const results = { machine: machine(), runs: RUNS, sizes: {}, promotion: null, inspection: null };

async function main() {
  // BENCH_TABLE=results.json: print the table of an earlier run again, measuring nothing.
  if (process.env.BENCH_TABLE) {
    Object.assign(results, JSON.parse(readFileSync(process.env.BENCH_TABLE, "utf8")));
    console.log(table());
    return;
  }
  mkdirSync(OUT, { recursive: true });
  const helpers = await bundleHelpers();
  for (const n of SIZES) {
    log(`\n## ${n} versions`);
    const root = join(WORK, `r${n}`);
    generateRegistry(root, n);
    const r = {};
    results.sizes[n] = r;
    r.refCat = measure(() => run("sh", ["-c", `find '${root}/metrics' -name '*.json' -exec cat {} + > /dev/null`]));
    // Node's own start-up on this machine (with its environment, e.g. NODE_EXTRA_CA_CERTS), the floor of every CLI figure.
    r.refNode = measure(() => run("node", ["-e", "0"]));
    // The same without NODE_EXTRA_CA_CERTS, as the registry command starts Node (see cli/registry).
    r.refNodeBare = measure(() => run("env", ["-u", "NODE_EXTRA_CA_CERTS", "node", "-e", "0"]));
    r.scanCold = measure(() => Number(run("node", [helpers, "scan", root, "1"]).stdout.trim()));
    r.scanWarm = { ...stats(JSON.parse(run("node", [helpers, "scan", root, String(RUNS + 1)]).stdout).slice(1)) };
    r.listCold = measure(
      () => cli(["list", "--json", "--root", root]),
      () => rmSync(join(root, ".registry"), { recursive: true, force: true }),
    );
    r.listWarm = measure(() => cli(["list", "--json", "--root", root]));
    // The Python loop and the two dry-runs the targets compare it with alternate round by round, so each
    // ratio compares figures taken seconds apart (this shared VM drifts by 20-40 % from minute to minute).
    const rounds = { python: [], first: [], second: [] };
    for (let i = 0; i < PAIRED_RUNS; i++) {
      rounds.python.push(time(() => run("python3", [join(repo, "bench/python-loop.py"), root])));
      rmSync(join(root, ".registry"), { recursive: true, force: true });
      rounds.first.push(time(() => cli(["promote", "--dry-run", "--root", root])));
      rounds.second.push(time(() => cli(["promote", "--dry-run", "--root", root])));
    }
    r.refPython = stats(rounds.python);
    r.dryRunFirst = stats(rounds.first);
    r.dryRunSecond = stats(rounds.second);
    r.ratios = {
      dryRunFirstVsPython: r.dryRunFirst.median / r.refPython.median,
      dryRunSecondVsPython: r.dryRunSecond.median / r.refPython.median,
    };
    if (process.env.BENCH_SERVER !== "0") Object.assign(r, await serverFigures(root, helpers, n === Math.max(...SIZES)));
    log(JSON.stringify(r, null, 1));
    writeFileSync(join(OUT, "results.partial.json"), `${JSON.stringify(results, null, 2)}\n`);
  }
  if (process.env.BENCH_PROMOTION !== "0") {
    results.promotion = promotionFigures(helpers, WORK);
    // A second file system that offers reflinks (XFS, btrfs), where the kernel copy is a clone: see bench/reflink-fs.sh.
    const reflinkDir = process.env.BENCH_REFLINK_DIR;
    if (reflinkDir) results.promotionReflink = promotionFigures(helpers, reflinkDir);
  }
  if (process.env.BENCH_POSTGRES !== "0") results.postgres = await postgresFigures(helpers);
  results.inspection = inspectionFigures();
  writeFileSync(join(OUT, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  const md = table();
  writeFileSync(join(OUT, "results.md"), md);
  console.log(`\n${md}`);
}

// ---- server ---------------------------------------------------------------------------------------

async function serverFigures(root, helpers, withAudit, postgresUrl = null) {
  const db = join(root, ".registry", "bench-audit.db");
  rmSync(db, { force: true });
  // The API's per-token limit is lifted: the figures are latencies, not the limiter.
  const sqliteEnv = { ...process.env, REGISTRY_ROOT: root, DATABASE_URL: `file:${db}`, NEXT_TELEMETRY_DISABLED: "1", REGISTRY_API_RATE_LIMIT: "1000000" };
  // The events first: adding the account appends its own event after them (the seeder starts at #1).
  if (withAudit) run("node", [helpers, "audit", db, String(AUDIT_EVENTS)]);
  execFileSync(BIN, ["users", "add", "bench", "--role", "viewer", "--password-stdin", "--root", root], {
    env: sqliteEnv,
    input: "bench-password-1",
  });
  const token = run("node", [helpers, "session", db, "bench"]).stdout.trim();
  const apiToken = JSON.parse(
    execFileSync(BIN, ["tokens", "create", "--name", "bench", "--role", "viewer", "--json", "--root", root], { env: sqliteEnv, encoding: "utf8" }),
  ).token;
  // PostgreSQL gets the very same rows (account, session, events and their hashes) through `registry db copy`.
  if (postgresUrl) cli(["db", "copy", "--to", postgresUrl, "--root", root], true, { DATABASE_URL: `file:${db}` });
  const env = postgresUrl ? { ...sqliteEnv, DATABASE_URL: "", REGISTRY_DATABASE_URL: postgresUrl } : sqliteEnv;
  // The way `npm start` runs it (which also caps glibc's malloc arenas: see package.json and README).
  const server = spawn("npm", ["start", "--", "-p", String(PORT), "-H", "127.0.0.1"], {
    cwd: repo,
    env,
    stdio: "ignore",
    detached: true,
  });
  try {
    await waitFor(`http://127.0.0.1:${PORT}/api/health`);
    const get = (path) => fetchTimed(`http://127.0.0.1:${PORT}${path}`, token);
    const f = {};
    const first = await get("/");
    f.overviewFirst = { ms: first.ms, status: first.status };
    f.overviewRepeat = stats(await repeat(() => get("/"), RUNS * 2));
    f.overviewHtmlKB = first.bytes / 1024;
    // The HTTP API beside the page: a first call each (the page above already scanned), then repeats.
    const api = async (path) => {
      const r = await fetchTimed(`http://127.0.0.1:${PORT}${path}`, null, apiToken);
      if (r.status !== 200) throw new Error(`${path} answered ${r.status}`);
      return r;
    };
    f.apiProductionFirst = (await api("/api/v1/production")).ms;
    f.apiProduction = stats(await repeat(() => api("/api/v1/production"), RUNS * 2));
    f.apiVersionsFirst = (await api("/api/v1/versions?limit=100")).ms;
    f.apiVersions = stats(await repeat(() => api("/api/v1/versions?limit=100"), RUNS * 2));
    f.apiVersionsSorted = stats(await repeat(() => api("/api/v1/versions?limit=100&sort=score&dir=desc&cursor=1000"), RUNS));
    const stems = JSON.parse(cli(["list", "--json", "--root", root], false).stdout).versions.map((v) => v.stem);
    const mid = stems[Math.floor(stems.length / 3)];
    await get(`/versions/${mid}`);
    f.versionPage = stats(await repeat(() => get(`/versions/${mid}`), RUNS));
    const ten = stems
      .slice(0, 10)
      .map((s) => `v=${s}`)
      .join("&");
    await get(`/compare?${ten}`);
    f.comparePage10 = stats(await repeat(() => get(`/compare?${ten}`), RUNS));
    if (withAudit) {
      await get("/audit");
      f.auditPage = stats(await repeat(() => get("/audit"), RUNS));
      f.auditPageFiltered = stats(await repeat(() => get("/audit?action=model.rolled_back&page=3"), RUNS));
      f.auditEvents = AUDIT_EVENTS;
    }
    f.serverRssMB = rssMB(server.pid);
    if (!postgresUrl) f.browser = await browserFigures(token);
    return f;
  } finally {
    process.kill(-server.pid, "SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function browserFigures(token) {
  let chromium;
  try {
    ({ chromium } = await import("@playwright/test"));
  } catch {
    return null;
  }
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  // Times are taken inside the page, in ms since its navigation started, by observers installed before any
  // of its scripts run: Playwright's own waits poll at up to 500 ms intervals and its click runs
  // actionability checks first (~60-170 ms here, measured on an idle page), which would be timing the tool.
  // "Drawn": the table has rows and all three charts their SVG. "Interactive": drawn, and a real mouse
  // click on the Score header (dispatched as soon as the driver sees the charts) has been handled: the
  // table marks itself busy or the URL changes. "Sorted": the server's newly sorted page is on screen.
  const observe = () => {
    const w = window;
    const mark = (k) => {
      w.__bench[k] ??= performance.now();
    };
    w.__bench = {};
    const check = () => {
      if (document.querySelector("table tbody tr") && document.querySelectorAll(".recharts-surface").length >= 3) mark("drawn");
      const busy = document.querySelector('table[aria-busy="true"]') !== null;
      if (busy || location.search.includes("sort=")) mark("handled");
      if (w.__bench.handled !== undefined && !busy && location.search.includes("sort=")) mark("sorted");
    };
    new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["aria-busy"] });
    for (const k of ["pushState", "replaceState"]) {
      const original = history[k].bind(history);
      history[k] = (...args) => {
        original(...args);
        check();
      };
    }
  };
  const visit = async (page) => {
    const t0 = Date.now();
    await page.goto(`http://127.0.0.1:${PORT}/`, { waitUntil: "commit" });
    const at = await page.waitForFunction(
      () => {
        const b =
          window.__bench?.drawn !== undefined && [...document.querySelectorAll("th button")].find((e) => /Score/.test(e.textContent));
        if (!b) return null;
        const r = b.getBoundingClientRect();
        return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
      },
      null,
      { polling: "raf", timeout: 30_000 },
    );
    const { x, y } = await at.jsonValue();
    await page.mouse.click(x, y);
    await page.waitForFunction(() => window.__bench.handled !== undefined, null, { polling: "raf", timeout: 30_000 });
    const wall = Date.now() - t0;
    await page.waitForFunction(() => window.__bench.sorted !== undefined, null, { polling: "raf", timeout: 30_000 });
    const m = await page.evaluate(() => window.__bench);
    return { drawn: Math.round(m.drawn), interactive: Math.round(m.handled), sorted: Math.round(m.sorted), wall };
  };
  const cookie = { name: "registry_session", value: token, domain: "127.0.0.1", path: "/" };
  try {
    // First visits: a new browser context each, so nothing is cached (no HTTP cache, no compiled code).
    const cold = [];
    for (let i = 0; i < 5; i++) {
      const context = await browser.newContext();
      await context.addCookies([cookie]);
      await context.addInitScript(observe);
      cold.push(await visit(await context.newPage()));
      await context.close();
    }
    // Returning visits: one context, its first visit discarded.
    const context = await browser.newContext();
    await context.addCookies([cookie]);
    await context.addInitScript(observe);
    const page = await context.newPage();
    await visit(page);
    const warm = [];
    for (let i = 0; i < 5; i++) warm.push(await visit(page));
    const pick = (runs, k) => stats(runs.map((r) => r[k]));
    return {
      drawnColdMs: pick(cold, "drawn"),
      interactiveColdMs: pick(cold, "interactive"),
      sortedColdMs: pick(cold, "sorted"),
      wallColdMs: pick(cold, "wall"),
      drawnMs: pick(warm, "drawn"),
      interactiveMs: pick(warm, "interactive"),
      sortedMs: pick(warm, "sorted"),
      wallMs: pick(warm, "wall"),
    };
  } finally {
    await browser.close();
  }
}

// ---- promotion of a 200 MB model -------------------------------------------------------------------

/**
 * The server and promotion figures again with PostgreSQL (a throwaway database on REGISTRY_TEST_POSTGRES_URL,
 * dropped after), at the largest size, beside the SQLite ones of the same run. BENCH_POSTGRES=0 skips it.
 */
async function postgresFigures(helpers) {
  const admin = process.env.REGISTRY_TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
  const n = Math.max(...SIZES);
  const out = { size: n };
  const fresh = () => {
    const name = `registry_bench_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    run("psql", [admin, "-qc", `CREATE DATABASE "${name}"`]);
    return { name, url: Object.assign(new URL(admin), { pathname: `/${name}` }).toString() };
  };
  const drop = (d) => run("psql", [admin, "-qc", `DROP DATABASE IF EXISTS "${d.name}" WITH (FORCE)`], { allowFail: true });
  log(`\n## PostgreSQL, ${n} versions`);
  if (process.env.BENCH_SERVER !== "0") {
    const d = fresh();
    try {
      Object.assign(out, await serverFigures(join(WORK, `r${n}`), helpers, true, d.url));
    } finally {
      drop(d);
    }
  }
  if (process.env.BENCH_PROMOTION !== "0") {
    const d = fresh();
    try {
      out.promotion = promotionFigures(helpers, WORK, { DATABASE_URL: "", REGISTRY_DATABASE_URL: d.url });
    } finally {
      drop(d);
    }
  }
  log(JSON.stringify(out, null, 1));
  return out;
}

function promotionFigures(helpers, base, dbEnv = { DATABASE_URL: "" }) {
  const root = join(base, "big");
  const fileSystem = run("findmnt", ["-n", "-o", "FSTYPE", "-T", base]).stdout.trim();
  log(`\n## promotion of a 200 MB model on ${fileSystem} (${base})`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, "models"), { recursive: true });
  mkdirSync(join(root, "metrics"), { recursive: true });
  const big = join(root, "models", "big_20250101T000000Z.joblib");
  // A valid 200 MB pickle (protocol 4: one BINBYTES8 of random bytes), so the safety checks read it as a
  // model file and pass it: the figure includes inspecting it, hashing it and copying it.
  const header = Buffer.alloc(11);
  header.set([0x80, 0x04, 0x8e]);
  header.writeBigUInt64LE(200n * 1024n * 1024n, 3);
  writeFileSync(big, header);
  const chunk = randomBytes(8 * 1024 * 1024);
  for (let i = 0; i < 25; i++) writeFileSync(big, chunk, { flag: "a" });
  writeFileSync(big, Buffer.from([0x2e]), { flag: "a" });
  writeFileSync(join(root, "metrics", "big_20250101T000000Z.json"), JSON.stringify({ metrics: { pr_auc: 0.9 } }));
  copyFileSync(
    join(repo, "artifacts", "models", "candidate_logreg_20250305T101000Z.joblib"),
    join(root, "models", "small_20240101T000000Z.joblib"),
  );
  writeFileSync(join(root, "metrics", "small_20240101T000000Z.json"), JSON.stringify({ metrics: { pr_auc: 0.7 } }));
  const env = dbEnv;
  // Put live once by a promotion, so the rollbacks below go back to a version that was live.
  cli(["promote", "--version", "small_20240101T000000Z", "--reason", "bench", "--root", root], true, env);
  const promote = [];
  const applyFirst = [];
  const apply = [];
  const copy = [];
  const copySync = [];
  const direct = [];
  // A reference command that writes copyBin, timed; the copy is then removed and flushed before the next figure.
  const copyBin = join(root, "copy.bin");
  const reference = (cmd, args) => {
    const ms = time(() => run(cmd, args));
    rmSync(copyBin);
    run("sync", []);
    return ms;
  };
  for (let i = 0; i < 3; i++) {
    promote.push(
      time(() =>
        cli(
          ["promote", "--version", "big_20250101T000000Z", "--override", "feature_schema", "--reason", "bench", "--root", root],
          true,
          env,
        ),
      ),
    );
    cli(["rollback", "--to", "small_20240101T000000Z", "--root", root], true, env);
    run("sync", []);
    copy.push(reference("cp", [big, copyBin]));
    copySync.push(reference("sh", ["-c", `cp '${big}' '${copyBin}' && sync '${copyBin}'`]));
    // The disk's own speed: the bytes written straight to it, no page cache. No durable copy can beat it.
    direct.push(reference("dd", [`if=${big}`, `of=${copyBin}`, "bs=4M", "oflag=direct", "status=none"]));
    const [first, warm] = JSON.parse(run("node", [helpers, "apply", root, "big_20250101T000000Z", "small_20240101T000000Z"]).stdout);
    applyFirst.push(first);
    apply.push(warm);
    cli(["rollback", "--to", "small_20240101T000000Z", "--root", root], true, env);
    run("sync", []);
  }
  const r = {
    fileSystem,
    promote200MB: stats(promote),
    applyFirst200MB: stats(applyFirst),
    apply200MB: stats(apply),
    cp200MB: stats(copy),
    cpSync200MB: stats(copySync),
    directWrite200MB: stats(direct),
  };
  r.ratio = r.promote200MB.median / r.cp200MB.median;
  r.applyRatio = r.apply200MB.median / r.cp200MB.median;
  r.applyRatioDurable = r.apply200MB.median / r.cpSync200MB.median;
  return r;
}

function inspectionFigures() {
  const script = join(repo, "scripts", "bench-inspect.mjs");
  if (!existsSync(script)) return null;
  const out = run("node", [script, "--json"], { allowFail: true });
  try {
    return JSON.parse(out.stdout.trim().split("\n").at(-1));
  } catch {
    return { raw: out.stdout.trim().slice(-2000) };
  }
}

// ---- helpers --------------------------------------------------------------------------------------

async function bundleHelpers() {
  const { build } = await import("esbuild");
  // Inside the repo, so the bundle's external packages resolve from its node_modules.
  const entry = join(OUT, "bench-helpers.ts");
  writeFileSync(
    entry,
    `import { execFileSync } from "node:child_process";
import { applyPlan, planFromDisk, scanRegistry } from "${repo}/lib/registry";
import { seedAudit } from "${repo}/bench/seed-audit";
import { openBenchSession } from "${repo}/bench/session";
const [cmd, a, b, c] = process.argv.slice(2);
if (cmd === "scan") {
  const times = [];
  for (let i = 0; i < Number(b); i++) { const t = performance.now(); await scanRegistry(a); times.push(performance.now() - t); }
  console.log(Number(b) === 1 ? String(times[0]) : JSON.stringify(times));
} else if (cmd === "apply") {
  // The write step of a promotion alone: lock, re-check, copy, fsync, journal, rename, fsync the folders.
  // Timed twice: first in this process (the lock's driver already loaded, as a server has it), and again
  // after going back to version \`c\`, as a server's later promotions run (its code loaded and compiled).
  await import("better-sqlite3");
  const overrides = [{ check: "feature_schema", reason: "bench" }];
  const timed = async () => {
    const { plan } = await planFromDisk(a, { kind: "promote", version: b, minScore: 0.6, overrides });
    execFileSync("sync");
    const t = performance.now();
    await applyPlan(a, plan);
    return performance.now() - t;
  };
  const first = await timed();
  // Back to \`c\` between the two timings (untimed): a promotion past its gates, as it needs no audit log here.
  const back = [...overrides, { check: "no_degradation", reason: "bench" }];
  await applyPlan(a, (await planFromDisk(a, { kind: "promote", version: c, minScore: 0, overrides: back })).plan);
  console.log(JSON.stringify([first, await timed()]));
} else if (cmd === "audit") seedAudit(a, Number(b), "${repo}/prisma/migrations");
else if (cmd === "session") console.log(openBenchSession(a, b));
`,
  );
  const outfile = join(OUT, "bench-helpers.mjs");
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    alias: { "@": repo },
    external: ["better-sqlite3"],
    nodePaths: [join(repo, "node_modules")],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: "warning",
  });
  return outfile;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, ...(opts.env ?? {}), NODE_PATH: join(repo, "node_modules") },
  });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr}`);
  return r;
}

function cli(args, check = true, env = {}) {
  return run(BIN, args, { env, allowFail: !check });
}

function time(fn) {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

/** Median and spread of RUNS timings of fn (ms); `before` runs untimed before each one (e.g. drop a cache). */
function measure(fn, before) {
  const samples = [];
  for (let i = 0; i < RUNS; i++) {
    before?.();
    const t = performance.now();
    const v = fn();
    samples.push(typeof v === "number" ? v : performance.now() - t);
  }
  return stats(samples);
}

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { median: round(median), min: round(s[0]), max: round(s.at(-1)), n: s.length };
}

function round(x) {
  return Math.round(x * 10) / 10;
}

async function repeat(fn, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push((await fn()).ms);
  return out;
}

async function fetchTimed(url, token, bearer) {
  const t = performance.now();
  const headers = bearer ? { authorization: `Bearer ${bearer}` } : { cookie: `registry_session=${token}` };
  const res = await fetch(url, { headers, redirect: "manual" });
  const body = await res.arrayBuffer();
  return { ms: performance.now() - t, status: res.status, bytes: body.byteLength };
}

function rssMB(pid) {
  // The server is `npx` → node next start: add up the resident memory of the process group's node processes.
  const out = spawnSync("sh", ["-c", `ps -o rss= -g ${pid}`], { encoding: "utf8" }).stdout;
  const kb = out.split("\n").map(Number).filter(Boolean);
  return { totalMB: round(kb.reduce((a, b) => a + b, 0) / 1024), largestMB: round(Math.max(...kb) / 1024) };
}

function machine() {
  return {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    memGB: round(totalmem() / 2 ** 30),
    node: process.version,
    date: new Date().toISOString(),
  };
}

function log(s) {
  process.stderr.write(`${s}\n`);
}

function ratioCell(x) {
  return [x.toFixed(2)]; // no growth column: a ratio of ratios says nothing
}

function table() {
  const sizes = Object.keys(results.sizes);
  // A figure is a median-and-spread object (shown in ms), or a [text, number] pair; the last column is how
  // much it grew from the smallest registry to the largest (against the versions' own growth).
  const cell = (f) => (f == null ? "—" : Array.isArray(f) ? f[0] : `${f.median} ms (${f.min}–${f.max})`);
  const number = (f) => (f == null ? undefined : Array.isArray(f) ? f[1] : f.median);
  const [smallest, largest] = [sizes[0], sizes.at(-1)];
  const growth = (pick) => {
    const [a, b] = [number(pick(results.sizes[smallest])), number(pick(results.sizes[largest]))];
    return sizes.length > 1 && a > 0 && b !== undefined ? `×${(b / a).toFixed(1)}` : "—";
  };
  const row = (label, pick) => `| ${label} | ${sizes.map((n) => cell(pick(results.sizes[n]))).join(" | ")} | ${growth(pick)} |`;
  const lines = [
    `Machine: ${results.machine.cpus} × ${results.machine.cpu}, ${results.machine.memGB} GiB, Node ${results.machine.node}, ${results.machine.date.slice(0, 10)}; median (min–max) of ${RUNS} runs (${PAIRED_RUNS} alternating rounds of the Python loop and both dry-runs).`,
    "",
    `| figure | ${sizes.map((n) => `${Number(n).toLocaleString("en-US")} versions`).join(" | ")} | growth, ×${round(largest / smallest)} versions |`,
    `| --- | ${sizes.map(() => "---").join(" | ")} | --- |`,
    row("reference: `cat metrics/*.json`", (r) => r.refCat),
    row("reference: Python json.load loop", (r) => r.refPython),
    row("core scan, cold (new process)", (r) => r.scanCold),
    row("core scan, warm (same process)", (r) => r.scanWarm),
    row("reference: `node -e 0` (start-up alone)", (r) => r.refNode),
    row("reference: `node -e 0` without `NODE_EXTRA_CA_CERTS`", (r) => r.refNodeBare),
    row("`registry list --json`, first run", (r) => r.listCold),
    row("`registry list --json`, second run", (r) => r.listWarm),
    row("`registry promote --dry-run`, first run", (r) => r.dryRunFirst),
    row("`registry promote --dry-run`, second run", (r) => r.dryRunSecond),
    row("dry-run first ÷ Python (target ≤ 0.9)", (r) => ratioCell(r.ratios.dryRunFirstVsPython)),
    row("dry-run second ÷ Python (target ≤ 0.35)", (r) => ratioCell(r.ratios.dryRunSecondVsPython)),
    row("overview page, first request", (r) => r.overviewFirst && [`${round(r.overviewFirst.ms)} ms`, r.overviewFirst.ms]),
    row("overview page, repeated", (r) => r.overviewRepeat),
    row("API `GET /api/v1/production`, repeated", (r) => r.apiProduction),
    row("API `GET /api/v1/versions` (100 a page), first", (r) => (r.apiVersionsFirst === undefined ? undefined : [`${round(r.apiVersionsFirst)} ms`, r.apiVersionsFirst])),
    row("API `GET /api/v1/versions` (100 a page), repeated", (r) => r.apiVersions),
    row("API `GET /api/v1/versions` by score, page 11", (r) => r.apiVersionsSorted),
    row("overview HTML size", (r) => r.overviewHtmlKB && [`${round(r.overviewHtmlKB)} KB`, r.overviewHtmlKB]),
    row("version page", (r) => r.versionPage),
    row("compare page, 10 versions", (r) => r.comparePage10),
    row(`audit page, ${AUDIT_EVENTS.toLocaleString("en-US")} events`, (r) => r.auditPage),
    row("audit page, filtered + paged", (r) => r.auditPageFiltered),
    row("browser: table and charts drawn, first visit (nothing cached)", (r) => r.browser?.drawnColdMs),
    row("browser: interactive, first visit (target ≤ 1 s)", (r) => r.browser?.interactiveColdMs),
    row("browser: sorted page shown, first visit", (r) => r.browser?.sortedColdMs),
    row("browser: interactive, first visit, on the driver's clock (from goto)", (r) => r.browser?.wallColdMs),
    row("browser: table and charts drawn, returning visit", (r) => r.browser?.drawnMs),
    row("browser: interactive, returning visit", (r) => r.browser?.interactiveMs),
    row("browser: sorted page shown, returning visit", (r) => r.browser?.sortedMs),
    row("server memory (RSS, largest process)", (r) => r.serverRssMB && [`${r.serverRssMB.largestMB} MB`, r.serverRssMB.largestMB]),
  ];
  for (const p of [results.promotion, results.promotionReflink]) {
    if (!p) continue;
    // A figure an older run did not take shows as a dash (BENCH_TABLE may print one).
    const line = (label, f, extra = "") =>
      `| ${label} | ${f ? `${f.median} ms` : "—"} | ${f ? `${(f.median / p.cp200MB.median).toFixed(2)}${extra}` : "—"} |`;
    lines.push(
      "",
      `Promotion of a 200 MB model${p.fileSystem ? ` on ${p.fileSystem}` : ""}, median of 3:`,
      "",
      "| figure | time | ÷ `cp` |",
      "| --- | --- | --- |",
      line("reference: `cp`", p.cp200MB),
      line("reference: `cp` then `sync` the copy (durable)", p.cpSync200MB),
      line("reference: the disk's speed (`dd oflag=direct`, no page cache)", p.directWrite200MB),
      line("the write step, a process's first (lock, checks, kernel copy, fsyncs, journal, renames)", p.applyFirst200MB),
      line(
        "the write step, a process's later ones, as in a running server (target ≤ 1.3× `cp`)",
        p.apply200MB,
        ` (${p.applyRatioDurable.toFixed(2)} of the durable \`cp\`)`,
      ),
      line("whole `registry promote` (node start, plan, audit log)", p.promote200MB),
    );
  }
  const pg = results.postgres;
  if (pg) {
    const sq = results.sizes[pg.size] ?? {};
    const both = (label, a, b) => `| ${label} | ${cell(a)} | ${cell(b)} |`;
    lines.push(
      "",
      `SQLite beside PostgreSQL 15 (same run, ${Number(pg.size).toLocaleString("en-US")} versions, the same ${AUDIT_EVENTS.toLocaleString("en-US")} events copied by \`registry db copy\`):`,
      "",
      "| figure | SQLite | PostgreSQL |",
      "| --- | --- | --- |",
      both(
        "overview page, first request",
        sq.overviewFirst && [`${round(sq.overviewFirst.ms)} ms`],
        pg.overviewFirst && [`${round(pg.overviewFirst.ms)} ms`],
      ),
      both("overview page, repeated", sq.overviewRepeat, pg.overviewRepeat),
      both("version page", sq.versionPage, pg.versionPage),
      both(`audit page, ${AUDIT_EVENTS.toLocaleString("en-US")} events`, sq.auditPage, pg.auditPage),
      both("audit page, filtered + paged", sq.auditPageFiltered, pg.auditPageFiltered),
      both("whole `registry promote` of a 200 MB model", results.promotion?.promote200MB, pg.promotion?.promote200MB),
      both(
        "server memory (RSS, largest process)",
        sq.serverRssMB && [`${sq.serverRssMB.largestMB} MB`],
        pg.serverRssMB && [`${pg.serverRssMB.largestMB} MB`],
      ),
    );
  }
  if (results.inspection) lines.push("", `Inspection: ${JSON.stringify(results.inspection)}`);
  return `${lines.join("\n")}\n`;
}

await main();
