import { execFileSync } from "node:child_process";
import { lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lstatNames, STAT_ROW, StatKind, stampAt } from "./fast/stamps";
import { readSmallFileSync } from "./files";

describe("lstatNames and readSmallFileSync", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "registry-files-"));
    writeFileSync(join(dir, "a.json"), '{"pr_auc": 0.7}');
    symlinkSync(join(dir, "a.json"), join(dir, "link.json"));
    mkdirSync(join(dir, "folder.json"));
    execFileSync("mkfifo", [join(dir, "pipe.json")]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const names = ["a.json", "link.json", "folder.json", "pipe.json", "missing.json", ""];

  it("says what each name is, with the stamp lstat gives, and never changes the working directory", () => {
    const cwd = process.cwd();
    const rows = lstatNames(dir, names);
    expect(process.cwd()).toBe(cwd);
    expect(rows.length).toBe(names.length * STAT_ROW);
    const kinds = names.map((_, i) => rows[i * STAT_ROW]);
    expect(kinds).toEqual([StatKind.file, StatKind.symlink, StatKind.other, StatKind.other, StatKind.missing, Number.NaN]);
    for (const [i, name] of ["a.json", "link.json"].entries()) {
      const st = lstatSync(join(dir, name));
      expect(stampAt(rows, i)).toEqual({ dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs });
    }
    expect(stampAt(rows, 4).ino).toBeNaN();
  });

  it("reads a regular file with the stamp of what it read, and refuses anything else", () => {
    const read = readSmallFileSync(join(dir, "a.json"), 1024);
    const st = lstatSync(join(dir, "a.json"));
    expect(read.bytes.toString()).toBe('{"pr_auc": 0.7}');
    expect(read.stamp).toEqual({ dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs });
    const code = (name: string, max = 1024) => {
      try {
        readSmallFileSync(join(dir, name), max);
        return "read";
      } catch (e) {
        return (e as NodeJS.ErrnoException).code;
      }
    };
    expect([code("link.json"), code("folder.json"), code("pipe.json"), code("missing.json"), code("a.json", 4)]).toEqual([
      "ELOOP",
      "ENOTREG",
      "ENOTREG",
      "ENOENT",
      "ETOOLARGE",
    ]);
  });
});
