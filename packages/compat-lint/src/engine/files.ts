import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import type { ChangeSets } from "./config.js";

/** A path argument that matched nothing, or a --since ref git cannot resolve: exit 2. */
export class UsageError extends Error {
  readonly code = "COMPAT_LINT_USAGE";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "UsageError";
  }
}

/**
 * node-pg-migrate's run order: by the numeric prefix before the first "_"
 * (13-digit millisecond timestamps, or 17-digit UTC yyyymmddhhmmssSSS), then
 * by a numeric-aware comparison of the whole name.
 */
export function compareMigrationNames(a: string, b: string): number {
  return prefixValue(a) - prefixValue(b) || collate(a, b);
}

// Created on first use: building an ICU collator costs several milliseconds,
// and it is only consulted when two files share a numeric prefix.
let collator: Intl.Collator | undefined;
function collate(a: string, b: string): number {
  collator ??= new Intl.Collator(undefined, {
    usage: "sort",
    numeric: true,
    sensitivity: "variant",
    ignorePunctuation: true,
  });
  return collator.compare(a, b);
}

function prefixValue(name: string): number {
  // name.split("_")[0] without the array; the length check spares most names the regex.
  const underscore = name.indexOf("_");
  const prefix = underscore < 0 ? name : name.slice(0, underscore);
  if (prefix.length === 17 && /^\d{17}$/.test(prefix)) {
    const iso = `${prefix.slice(0, 4)}-${prefix.slice(4, 6)}-${prefix.slice(6, 8)}T${prefix.slice(8, 10)}:${prefix.slice(10, 12)}:${prefix.slice(12, 14)}.${prefix.slice(14, 17)}Z`;
    const t = Date.parse(iso);
    return Number.isNaN(t) ? 0 : t;
  }
  const n = Number(prefix);
  return Number.isFinite(n) ? n : 0;
}

function isGlob(p: string): boolean {
  return /[*?[]/.test(p);
}

function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") {
      if (glob[i + 1] === "*") {
        re += glob[i + 2] === "/" ? "(?:.*/)?" : ".*";
        i += glob[i + 2] === "/" ? 2 : 1;
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const close = glob.indexOf("]", i);
      if (close < 0) re += "\\[";
      else {
        re += `[${glob.slice(i + 1, close).replace(/\\/g, "\\\\")}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

function walk(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === "node_modules" || e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
}

/**
 * Expands path arguments into absolute .sql file paths in migration order:
 * a directory contributes its .sql files (not recursive, like the migrator),
 * a file itself, a glob its matches. Throws UsageError for a path that
 * matches nothing.
 */
export function collectFiles(args: readonly string[], cwd: string): string[] {
  const found = new Set<string>();
  for (const arg of args) {
    // Brace alternatives (migrations/{a,b}/*.sql), as shells and glob libraries expand them: the
    // argument matches what any alternative matches, and is an error only when none matches.
    const alternatives = expandBraces(arg);
    if (alternatives.length === 1) {
      collectOne(arg, cwd, found);
      continue;
    }
    let problem: UsageError | undefined;
    let matched = false;
    for (const alt of alternatives) {
      try {
        collectOne(alt, cwd, found);
        matched = true;
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        problem ??= err;
      }
    }
    if (!matched) throw new UsageError(`no files match ${arg}`, { cause: problem });
  }
  return sortMigrations([...found]);
}

/**
 * `a{b,c{d,e}}f` -> [abf, acdf, acef]; a brace without a comma inside, or unbalanced, is literal.
 * At most 256 alternatives per argument, so a pathological pattern cannot run away.
 */
export function expandBraces(pattern: string): string[] {
  let depth = 0;
  let open = -1;
  const commas: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === "{") {
      if (depth === 0) {
        open = i;
        commas.length = 0;
      }
      depth++;
    } else if (c === "}" && depth > 0) {
      depth--;
      if (depth === 0) {
        if (commas.length === 0) continue;
        const head = pattern.slice(0, open);
        const tail = pattern.slice(i + 1);
        const parts: string[] = [];
        let from = open + 1;
        for (const at of [...commas, i]) {
          parts.push(pattern.slice(from, at));
          from = at + 1;
        }
        const out: string[] = [];
        for (const part of parts)
          for (const x of expandBraces(head + part + tail)) if (out.length < 256) out.push(x);
        return out;
      }
    } else if (c === "," && depth === 1) commas.push(i);
  }
  return [pattern];
}

/** One path argument (no braces): a glob's matches, a folder's .sql files, or the file. */
function collectOne(arg: string, cwd: string, found: Set<string>): void {
  if (isGlob(arg)) {
    const parts = arg.split(/[\\/]/);
    const fixed: string[] = [];
    for (const part of parts) {
      if (isGlob(part)) break;
      fixed.push(part);
    }
    const root = resolve(cwd, fixed.join("/") || ".");
    const pattern = globToRegExp(resolve(cwd, arg).split(sep).join("/"));
    const all: string[] = [];
    try {
      walk(root, all);
    } catch {
      // A missing root simply matches nothing.
    }
    const matches = all.filter((p) => pattern.test(p.split(sep).join("/")));
    if (matches.length === 0) throw new UsageError(`no files match ${arg}`);
    for (const m of matches) found.add(m);
    return;
  }
  const abs = resolve(cwd, arg);
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(abs);
  } catch (err) {
    throw new UsageError(`no such file or directory: ${arg}`, { cause: err });
  }
  if (st.isDirectory()) {
    const entries = readdirSync(abs, { withFileTypes: true })
      .filter(
        (e) =>
          (e.isFile() || e.isSymbolicLink()) &&
          e.name.endsWith(".sql") &&
          !e.name.startsWith(".") &&
          // golang-migrate / sql-migrate style rollbacks: never run on deploy, not migrations to judge.
          !e.name.endsWith(".down.sql"),
      )
      // abs is resolved (normalized) and a directory entry name has no separator, so
      // concatenation equals path.join, without normalizing 2,000 paths again.
      .map((e) => (abs.endsWith(sep) ? abs + e.name : abs + sep + e.name));
    if (entries.length === 0) throw new UsageError(`no .sql files in ${arg}`);
    for (const e of entries) found.add(e);
  } else found.add(abs);
}

/**
 * Migration order. A file named like its siblings in other folders (Prisma's
 * `<folder>/migration.sql`, Diesel's `<folder>/up.sql`) is ordered by its
 * folder's name in byte order, as those migrators order their folders; other
 * files by their own name. Names compare by compareMigrationNames, then the full path. Keys
 * are computed once per file instead of once per comparison.
 */
export function sortMigrations(paths: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const p of paths) {
    const name = p.slice(p.lastIndexOf(sep) + 1);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const keyed = paths.map((path) => {
    const slash = path.lastIndexOf(sep);
    let name = path.slice(slash + 1);
    // Segment-wise, never "folder/name" as one string: "a_b/x" vs "a/x" must compare "a_b" with
    // "a", or "_" and "/" decide the order (Prisma sorts folder names).
    let sub = "";
    if ((counts.get(name) ?? 0) > 1 && slash > 0) {
      sub = name;
      name = path.slice(path.lastIndexOf(sep, slash - 1) + 1, slash);
    }
    // Prisma and Diesel order their folders by name, byte by byte: "20250625_x" runs between
    // "20250604085536_y" and "20250704170658_z", not first as its shorter number would have it.
    return { path, name, sub, prefix: sub === "" ? prefixValue(name) : 0 };
  });
  keyed.sort((a, b) =>
    a.sub !== "" && b.sub !== ""
      ? byteOrder(a.name, b.name) || collate(a.sub, b.sub) || a.path.localeCompare(b.path)
      : a.prefix - b.prefix ||
        collate(a.name, b.name) ||
        byteOrder(a.name, b.name) ||
        collate(a.sub, b.sub) ||
        a.path.localeCompare(b.path),
  );
  return keyed.map((k) => k.path);
}

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The change set each file belongs to, as a key (files in migration order;
 * consecutive files with the same key form one change set; undefined: the
 * file is a change set of its own). See Config.changeSets.
 */
export function changeSetKeys(paths: readonly string[], setting: ChangeSets): (string | undefined)[] {
  if (setting === "file") return paths.map(() => undefined);
  const dirOf = (p: string) => p.slice(0, p.lastIndexOf(sep) + 1);
  const nameOf = (p: string) => p.slice(p.lastIndexOf(sep) + 1);
  if (setting === "folder") return paths.map(dirOf);
  if (typeof setting === "object") {
    const re = new RegExp(setting.pattern);
    return paths.map((p) => {
      const m = re.exec(nameOf(p));
      return m ? dirOf(p) + (m[1] ?? m[0]) : undefined;
    });
  }
  const names = new Map<string, number>();
  for (const p of paths) names.set(nameOf(p), (names.get(nameOf(p)) ?? 0) + 1);
  return paths.map((p) => {
    const name = nameOf(p);
    // popx (Ory): <yyyymmddhhmmss><step:6>_<name>[.<dialect>][.autocommit].up.sql, one version
    // written as several steps.
    const popx = POPX.exec(name);
    if (popx) return dirOf(p) + popx[1];
    // A folder per migration: the file shares its name with files in other folders.
    if ((names.get(name) ?? 0) > 1) return dirOf(p);
    return undefined;
  });
}

const POPX = /^(\d{14})\d{6}_[^.]+(?:\.[a-z0-9]+)?(?:\.autocommit)?\.up\.sql$/;

/** Display form of a path: relative to cwd when inside it, with forward slashes. */
export function displayPath(abs: string, cwd: string): string {
  if (sep === "/" && cwd.length > 1 && !cwd.endsWith("/")) {
    if (abs.startsWith(cwd) && abs[cwd.length] === "/") {
      // The usual case, a normalized path inside a normalized cwd, without path.relative's work.
      const rest = abs.slice(cwd.length + 1);
      if (rest !== "" && !rest.startsWith("..") && !DOT_SEGMENT.test(rest)) return rest;
    } else if (abs.startsWith("/") && !DOT_SEGMENT.test(abs) && !DOT_SEGMENT.test(cwd)) {
      // Normalized and outside cwd, where path.relative would start with "..": shown as it is,
      // without path.relative's ~5 us a file (10 ms on 2,000 files linted from elsewhere).
      return abs;
    }
  }
  const rel = relative(cwd, abs);
  const p = rel.startsWith("..") || rel === "" ? abs : rel;
  return p.split(sep).join("/");
}

/** A "." or ".." segment, or an empty one ("//"): a path that is not normalized. */
const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)|\/\//;

/** The top-level directory of the git work tree holding `cwd`, or undefined outside one. */
export function gitTopLevel(cwd: string): string | undefined {
  try {
    return git(["rev-parse", "--show-toplevel"], cwd).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** What --since needs from git: the change set, and the migrations the ref had that changed since. */
export interface ChangesSince {
  /** Absolute paths of files added since the ref (committed, staged or in the working tree) plus untracked files. */
  added: Set<string>;
  /** The files among `paths` that existed at the ref and differ now, each with its content at the ref. */
  edited: Map<string, Buffer>;
}

/**
 * Asks git what changed since `ref`, in one diff: `paths` (absolute, canonical)
 * are the files being linted, the only ones whose earlier content is read.
 */
export function changesSince(ref: string, cwd: string, paths: ReadonlySet<string>): ChangesSince {
  if (ref.trim() === "") throw new UsageError("--since needs a git ref, such as origin/main");
  if (ref.startsWith("-")) throw new UsageError(`--since: "${ref}" is not a git ref`);
  const top = gitTopLevel(cwd);
  if (top === undefined) {
    throw new UsageError(`--since needs git and a repository; ${cwd} is not inside a git work tree`);
  }
  try {
    git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], cwd);
  } catch (err) {
    throw new UsageError(
      `--since: unknown git ref "${ref}" (in a shallow CI checkout, fetch it first, e.g. \`git fetch --depth=1 origin main\`)`,
      { cause: err },
    );
  }
  const added = new Set<string>();
  const edited = new Map<string, Buffer>();
  // -M100%, whatever diff.renames says: a file moved or renamed unchanged (a migrations folder
  // moved in a refactoring) is the migration the ref had, replayed as context, and not an edit;
  // but a new file that git's default 50% similarity would pair with a deleted one is added: its
  // text is new. With -z, each entry is a status, then one path (two for R and C).
  const diff = git(["diff", "-M100%", "--name-status", "-z", ref, "--"], top).split("\0");
  for (let i = 0; i + 1 < diff.length; ) {
    const status = diff[i]!;
    const twoPaths = status.startsWith("R") || status.startsWith("C");
    const p = diff[twoPaths ? i + 2 : i + 1]!;
    i += twoPaths ? 3 : 2;
    if (status === "A") added.add(resolve(top, p));
    else if (status === "M" && paths.has(resolve(top, p))) {
      // git object names use forward slashes, relative to the top level. --filters: the content
      // as a checkout would write it (core.autocrlf, eol attributes), like the file it is compared
      // with; the stored blob's LF endings would differ from a CRLF checkout inside every
      // dollar-quoted body and multi-line string.
      edited.set(resolve(top, p), gitBytes(["cat-file", "--filters", `${ref}:${p}`], top));
    }
  }
  for (const p of git(["ls-files", "--others", "--exclude-standard", "-z"], top).split("\0")) {
    if (p !== "") added.add(resolve(top, p));
  }
  return { added, edited };
}

function git(args: string[], cwd: string): string {
  return gitBytes(args, cwd).toString("utf8");
}

function gitBytes(args: string[], cwd: string): Buffer {
  // Loaded on first use: only --since needs it, and node:child_process costs a few ms at startup.
  const { execFileSync } = process.getBuiltinModule("node:child_process");
  try {
    return execFileSync("git", args, { cwd, stdio: ["ignore", "pipe", "pipe"], maxBuffer: 256 << 20 });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    const msg = (e.stderr?.toString("utf8") ?? "").trim().split("\n")[0] || e.message;
    throw new UsageError(`git ${args.join(" ")} failed: ${msg}`, { cause: err });
  }
}

/** A file's bytes, or why they could not be read. */
export type ReadOutcome = { ok: true; bytes: Buffer } | { ok: false; message: string };

/**
 * Reads files as bytes into shared slabs: one open/read/close per file and
 * no allocation of its own, instead of readFileSync's fstat, reads, Buffer
 * and (for text) decode per file. A migration directory is thousands of
 * small files, and this was ~10 of a ~200 ms lint run on the 2,000-file
 * benchmark (tools/bench-compat-lint). A file that fills the space left in a
 * slab is read again with readFileSync, so any size works.
 */
export function readFiles(paths: readonly string[]): ReadOutcome[] {
  const out: ReadOutcome[] = [];
  let slab = Buffer.allocUnsafeSlow(SLAB);
  let used = 0;
  for (const path of paths) {
    if (slab.length - used < SLAB / 4) {
      slab = Buffer.allocUnsafeSlow(SLAB);
      used = 0;
    }
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (err) {
      out.push({ ok: false, message: readProblem(err) });
      continue;
    }
    try {
      const room = slab.length - used;
      let n = 0;
      // Until read() returns 0 (end of file) or the room is full.
      for (let got = -1; got !== 0 && n < room; n += got) got = readSync(fd, slab, used + n, room - n, null);
      if (n < room) {
        out.push({ ok: true, bytes: slab.subarray(used, used + n) });
        used += n;
      } else out.push({ ok: true, bytes: readFileSync(path) });
    } catch (err) {
      out.push({ ok: false, message: readProblem(err) });
    } finally {
      closeSync(fd);
    }
  }
  return out;
}

const SLAB = 1 << 20;

function readProblem(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === "EISDIR") return "cannot read: it is a directory";
  if (e?.code === "ENOENT") return "cannot read: no such file (a broken symbolic link?)";
  if (e?.code === "EACCES" || e?.code === "EPERM") return "cannot read: permission denied";
  return `cannot read: ${e?.code ?? e?.message ?? String(err)}`;
}
