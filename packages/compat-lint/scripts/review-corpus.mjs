#!/usr/bin/env node
// The mechanical reviewer of a real-world corpus (issue 17): replays the corpus into a real
// Postgres, change set by change set, snapshots the catalog before and after every change set
// that compat-lint flags, and judges each contract error by what the catalog says the previous
// generation can still observe (is the column still there with its type, the default the same
// value, a unique index on exactly those columns, ...). It writes the verdict snapshot the
// corpus test checks (test/corpus-real/<project>/verdicts.txt).
//
//   npm run build && node scripts/review-corpus.mjs test/corpus-real/kratos [postgres-url]
//
// Default URL: postgres://postgres@127.0.0.1:5432/postgres; a scratch database
// compat_lint_review is dropped and created on it. A verdict line whose reason starts with
// "by hand:" is kept as it is: the mechanical judgement is a first reading, a person's review
// has the last word. A finding the catalog cannot decide is written "wrong? unreviewed: ..." and
// fails the test until someone decides it.
import { readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import pg from "pg";
import { changeSetKeys, collectFiles } from "../dist/engine/files.js";
import { lint } from "../dist/index.js";
import { initParser, parseRange } from "../dist/parse/parser.js";
import { SourceText } from "../dist/parse/source.js";
import { corpusGlob, findingKey, readVerdicts, verdictLine } from "./corpus-verdicts.mjs";

// --findings <compat-lint -f json output>: judge another build's findings (a baseline) instead
// of this build's, and print the precision without writing the snapshot.
const args = process.argv.slice(2);
const at = args.indexOf("--findings");
const findingsFile = at >= 0 ? args.splice(at, 2)[1] : undefined;
const dir = resolve(args[0] ?? "");
const url = args[1] ?? "postgres://postgres@127.0.0.1:5432/postgres";
const db = "compat_lint_review";

const admin = new pg.Client({ connectionString: url });
await admin.connect();
await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
await admin.query(`CREATE DATABASE ${db}`);
await admin.end();
const u = new URL(url);
u.pathname = `/${db}`;
const client = new pg.Client({ connectionString: u.toString() });
await client.connect();
client.on("notice", () => {});

const result = findingsFile
  ? (() => {
      const r = JSON.parse(readFileSync(findingsFile, "utf8"));
      for (const d of r.diagnostics) d.start ??= { line: d.line, column: d.column };
      return r;
    })()
  : await lint({ paths: [corpusGlob(dir)], cwd: dir });
const files = collectFiles([corpusGlob(dir)], dir);
const keys = changeSetKeys(files, "auto");
const errors = result.diagnostics.filter((d) => d.severity === "error");
// Every finding (allowed by a breaking marker, warnings too): a change the file declares breaking
// is not a miss.
const allByFile = new Map();
for (const d of result.diagnostics) {
  if (!allByFile.has(d.file)) allByFile.set(d.file, []);
  allByFile.get(d.file).push(d);
}
const misses = [];
const byFile = new Map();
for (const d of errors) {
  if (!byFile.has(d.file)) byFile.set(d.file, []);
  byFile.get(d.file).push(d);
}

// Change sets in order: runs of files with the same key.
const sets = [];
for (let i = 0; i < files.length; i++) {
  const last = sets[sets.length - 1];
  if (last && keys[i] !== undefined && keys[i] === keys[i - 1]) last.push(files[i]);
  else sets.push([files[i]]);
}

await initParser();
const previous = readVerdicts(dir);
const out = [];
let failedFiles = 0;
for (const set of sets) {
  const rels = set.map((f) => relative(dir, f));
  const flagged = rels.flatMap((r) => byFile.get(r) ?? []);
  const before = await catalog();
  const failures = [];
  for (const f of set) {
    const problem = await apply(readFileSync(f, "utf8"));
    if (problem) failures.push(`${relative(dir, f)}: ${problem}`);
  }
  failedFiles += failures.length;
  for (const f of failures) process.stderr.write(`did not replay: ${f}\n`);
  const after = await catalog();
  if (!failures.length) {
    const allFindings = rels.flatMap((r) => allByFile.get(r) ?? []);
    for (const m of missed(before, after, allFindings)) misses.push(`${rels[0]}: ${m}`);
  }
  if (!flagged.length) continue;
  for (const d of flagged) {
    const key = findingKey(d);
    const kept = previous.get(key);
    if (kept?.reason.startsWith("by hand:")) {
      out.push(verdictLine(key, kept.verdict, kept.reason));
      continue;
    }
    const v = failures.length
      ? { verdict: "wrong?", reason: `unreviewed: the change set did not replay (${failures[0]})` }
      : judge(d, before, after);
    out.push(verdictLine(key, v.verdict, v.reason));
  }
}
await client.end();
if (!findingsFile) writeFileSync(join(dir, "verdicts.txt"), `${out.join("\n")}\n`);
const right = out.filter((l) => l.split("\t")[2] === "right").length;
for (const m of misses) process.stdout.write(`missed? ${m}\n`);
process.stdout.write(
  `${relative(process.cwd(), dir)}: ${misses.length} breaking changes without a finding; ${out.length} contract errors, ${right} right (${pct(right, out.length)}), ${failedFiles} files did not replay\n`,
);

function pct(a, b) {
  return b === 0 ? "n/a" : `${((100 * a) / b).toFixed(1)}%`;
}

/** Runs a migration file; an error message when it fails. */
async function apply(sql) {
  try {
    await client.query(sql);
    return undefined;
  } catch (err) {
    // CREATE INDEX CONCURRENTLY and friends (popx "autocommit" files): one statement at a time.
    if (err.code !== "25001") return `${err.code ?? ""} ${err.message}`.trim();
  }
  const source = new SourceText(sql);
  const parsed = parseRange(source, 0, source.bytes.length);
  if (!parsed.ok) return `does not parse: ${parsed.error.message}`;
  for (const s of parsed.statements) {
    try {
      await client.query(source.bytes.subarray(s.start, s.end).toString("utf8"));
    } catch (err) {
      return `${err.code ?? ""} ${err.message}`.trim();
    }
  }
  return undefined;
}

/** What old code can observe, keyed by unqualified name for public objects, else schema.name. */
async function catalog() {
  const name = (schema, rel) => (schema === "public" ? rel : `${schema}.${rel}`);
  const user =
    "n.nspname NOT IN ('pg_catalog','information_schema','pg_toast') AND n.nspname NOT LIKE 'pg_temp%'";
  const relations = new Map();
  for (const r of (
    await client.query(`
      SELECT n.nspname, c.relname, c.relkind, a.attname, format_type(a.atttypid, a.atttypmod) AS type,
             a.attnotnull, pg_get_expr(d.adbin, d.adrelid) AS def
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
      WHERE c.relkind IN ('r','p','v','m','f') AND ${user}`)
  ).rows) {
    const k = name(r.nspname, r.relname);
    if (!relations.has(k)) relations.set(k, { kind: r.relkind, columns: new Map() });
    if (r.attname)
      relations.get(k).columns.set(r.attname, { type: r.type, notNull: r.attnotnull, def: r.def });
  }
  const uniques = new Map();
  for (const r of (
    await client.query(`
      SELECT n.nspname, t.relname, i.relname AS index, x.indisprimary,
             ARRAY(SELECT a.attname FROM unnest(x.indkey) k JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k)::text[] AS cols,
             x.indpred IS NOT NULL OR 0 = ANY(x.indkey::int2[]) AS partial
      FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
      JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE x.indisunique AND ${user}`)
  ).rows) {
    const k = name(r.nspname, r.relname);
    if (!uniques.has(k)) uniques.set(k, []);
    if (!r.partial) uniques.get(k).push({ index: r.index, primary: r.indisprimary, cols: r.cols });
  }
  const constraints = new Map();
  const fks = [];
  for (const r of (
    await client.query(`
      SELECT n.nspname, t.relname, c.conname, c.contype, pg_get_constraintdef(c.oid) AS def, f.relname AS ref,
             ARRAY(SELECT a.attname FROM unnest(c.conkey) k JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k)::text[] AS cols
      FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
      LEFT JOIN pg_class f ON f.oid = c.confrelid
      WHERE ${user}`)
  ).rows) {
    const k = name(r.nspname, r.relname);
    if (!constraints.has(k)) constraints.set(k, new Map());
    constraints.get(k).set(r.conname, { type: r.contype, def: r.def });
    if (r.contype === "f") fks.push({ table: k, cols: r.cols, ref: r.ref, def: r.def });
  }
  const types = new Map();
  for (const r of (
    await client.query(`
      SELECT n.nspname, t.typname, t.typtype,
             ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)::text[] AS labels
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE t.typtype IN ('e','d','c') AND ${user}
        AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')`)
  ).rows)
    types.set(name(r.nspname, r.typname), { kind: r.typtype, labels: r.labels });
  return { relations, uniques, constraints, fks, types };
}

function unq(s) {
  return s.replace(/^public\./, "").replace(/"/g, "");
}
function cols(s) {
  return s.split(",").map((c) => unq(c.trim()));
}
function sameSet(a, b) {
  return a.length === b.length && a.every((x) => b.includes(x));
}
function column(cat, t, c) {
  return cat.relations.get(t)?.columns.get(c);
}

/**
 * Right when the catalog shows the change the rule's reason names (what the previous
 * generation used is gone or changed in the way the message says); wrong when the end of the
 * change set still offers it.
 */
function judge(d, before, after) {
  const m = (re) => re.exec(d.message);
  const right = (reason) => ({ verdict: "right", reason });
  const wrong = (reason) => ({ verdict: "wrong", reason });
  let x;
  switch (d.ruleId) {
    case "drop-column": {
      x = m(/^dropping column (.+)\.([^.;]+);/);
      if (!x) break;
      const [t, c] = [unq(x[1]), unq(x[2])];
      const was = column(before, t, c);
      const now = column(after, t, c);
      if (!was) return wrong(`${t}.${c} did not exist before the change set`);
      if (now && now.type === was.type)
        return wrong(`${t}.${c} is still there (${now.type}) after the change set`);
      return right(`${t}.${c} (${was.type}) is gone after the change set`);
    }
    case "rename-column": {
      x = m(/^renaming column (.+)\.([^.]+) to ([^;]+);/);
      if (!x) break;
      const [t, c] = [unq(x[1]), unq(x[2])];
      if (!column(before, t, c)) return wrong(`${t}.${c} did not exist before the change set`);
      if (column(after, t, c)) return wrong(`${t}.${c} is still there after the change set`);
      return right(`${t}.${c} is gone after the change set (now ${unq(x[3])})`);
    }
    case "drop-table":
    case "rename-table":
    case "drop-view": {
      x = m(/^(?:dropping (?:table|view)|renaming) ([^ ;]+)/);
      if (!x) break;
      const t = unq(x[1]);
      const was = before.relations.get(t);
      const now = after.relations.get(t);
      if (!was) return wrong(`${t} did not exist before the change set`);
      if (!now) return right(`${t} is gone after the change set`);
      const lost = [...was.columns].filter(([c, w]) => now.columns.get(c)?.type !== w.type).map(([c]) => c);
      if (lost.length === 0)
        return wrong(`${t} is back after the change set with every column and type it had`);
      return right(`${t} is back after the change set without ${lost.join(", ")} (or with another type)`);
    }
    case "drop-not-null": {
      x = m(/^DROP NOT NULL on (.+)\.([^.;]+);/);
      if (!x) break;
      const [t, c] = [unq(x[1]), unq(x[2])];
      const was = column(before, t, c);
      const now = column(after, t, c);
      if (!was?.notNull) return wrong(`${t}.${c} was not NOT NULL before the change set`);
      if (now?.notNull) return wrong(`${t}.${c} is NOT NULL again after the change set`);
      if (!now) return wrong(`${t}.${c} is gone after the change set (another rule's finding)`);
      return right(`${t}.${c} is nullable after the change set`);
    }
    case "set-not-null":
    case "add-required-column": {
      x = m(
        /^(?:SET NOT NULL on (?:existing column )?|(?:re-)?adding NOT NULL column )([^ ;,]+)\.([^ .;,]+)/,
      );
      if (!x) break;
      const [t, c] = [unq(x[1]), unq(x[2])];
      if (!before.relations.has(t)) return wrong(`${t} did not exist before the change set`);
      const was = column(before, t, c);
      const now = column(after, t, c);
      if (!now?.notNull) return wrong(`${t}.${c} is not NOT NULL after the change set`);
      if (d.message.startsWith("re-adding") && was && now.type !== was.type)
        return right(`${t}.${c} was ${was.type} and is ${now.type} after the change set`);
      if (was?.notNull) return wrong(`${t}.${c} was NOT NULL before the change set`);
      if (!was && now.def !== null)
        return wrong(`${t}.${c} is new and has a DEFAULT (${now.def}) old INSERTs get`);
      return right(
        was
          ? `${t}.${c} was nullable and is NOT NULL after the change set`
          : `${t}.${c} is new, NOT NULL, no DEFAULT`,
      );
    }
    case "drop-default":
    case "change-default": {
      x = m(/^(?:dropping|changing) the default of (.+)\.([^.;]+);/);
      if (!x) break;
      const [t, c] = [unq(x[1]), unq(x[2])];
      const was = column(before, t, c);
      const now = column(after, t, c);
      if (!was || was.def === null) return wrong(`${t}.${c} had no default before the change set`);
      if (now && now.def === was.def) return wrong(`${t}.${c}'s default is ${was.def} before and after`);
      return right(`${t}.${c}'s default was ${was.def}, after the change set ${now?.def ?? "none"}`);
    }
    case "drop-unique-constraint": {
      let t;
      let c;
      const a = m(/^dropping unique (?:index|constraint|key) (\S+) on ([^(]+)\(([^)]+)\)/);
      const b = m(/^dropping (?:PRIMARY KEY|UNIQUE) constraint \S+ of ([^;]+);.*ON CONFLICT \(([^)]+)\)/);
      if (a) [t, c] = [unq(a[2]), cols(a[3])];
      else if (b) [t, c] = [unq(b[1]), cols(b[2])];
      else break;
      const still = (after.uniques.get(t) ?? []).find((u) => sameSet(u.cols, c));
      if (still) return wrong(`${t}(${c.join(", ")}) is still unique after the change set (${still.index})`);
      const sub = (after.uniques.get(t) ?? []).find((u) => u.cols.every((k) => c.includes(k)));
      return right(
        `no unique index on exactly ${t}(${c.join(", ")}) after the change set${sub ? ` (${sub.index} keeps it unique, but ON CONFLICT (${c.join(", ")}) has no arbiter)` : ""}`,
      );
    }
    case "unique-on-existing-column": {
      x = m(/^unique (?:index|constraint|key) on existing columns? ([^(]+)\(([^)]+)\)/);
      if (!x) break;
      const [t, c] = [unq(x[1]), cols(x[2])];
      if (!before.relations.has(t)) return wrong(`${t} did not exist before the change set`);
      if (!c.every((k) => column(before, t, k)))
        return wrong(`not every column of ${t}(${c.join(", ")}) existed before`);
      const sub = (before.uniques.get(t) ?? []).find((u) => u.cols.every((k) => c.includes(k)));
      if (sub)
        return wrong(`${sub.index} already made ${t}(${sub.cols.join(", ")}) unique before the change set`);
      return right(`${t}(${c.join(", ")}) existed and was not unique before the change set`);
    }
    case "foreign-key-on-existing-column": {
      x = m(/^redefining the FOREIGN KEY on columns? ([^(]+)\(([^)]+)\) referencing ([^ :;]+)/);
      if (x) {
        const [t, c, ref] = [unq(x[1]), cols(x[2]), unq(x[3]).split(".").pop()];
        const find = (cat) => cat.fks.find((f) => f.table === t && sameSet(f.cols, c) && f.ref === ref);
        const [a, b] = [find(before), find(after)];
        if (!a) return wrong(`no foreign key ${t}(${c.join(", ")}) -> ${ref} before the change set`);
        if (b && b.def === a.def) return wrong(`the foreign key is ${a.def} before and after`);
        return right(`the foreign key was ${a.def}, after the change set ${b?.def ?? "gone"}`);
      }
      x = m(/^adding FOREIGN KEY on existing columns? ([^(]+)\(([^)]+)\) referencing ([^ ;]+)/);
      if (!x) break;
      const [t, c, ref] = [unq(x[1]), cols(x[2]), unq(x[3])];
      if (!before.relations.has(t)) return wrong(`${t} did not exist before the change set`);
      if (!c.every((k) => column(before, t, k)))
        return wrong(`not every column of ${t}(${c.join(", ")}) existed before`);
      const had = before.fks.find(
        (f) => f.table === t && sameSet(f.cols, c) && f.ref === ref.split(".").pop(),
      );
      if (had) return wrong(`${t}(${c.join(", ")}) already referenced ${ref} before the change set`);
      return right(`${t}(${c.join(", ")}) existed without a foreign key to ${ref}`);
    }
    case "incompatible-type-change": {
      x = m(/^changing (.+)\.([^. ]+) from (.+) to (.+) breaks/);
      if (!x) break;
      const [t, c] = [unq(x[1]), unq(x[2])];
      const was = column(before, t, c);
      const now = column(after, t, c);
      if (!was) return wrong(`${t}.${c} did not exist before the change set`);
      if (!now) return right(`${t}.${c} is gone after the change set`);
      if (now.type === was.type) {
        const a = before.types.get(unq(was.type));
        const b = after.types.get(unq(now.type));
        if (a?.labels?.length && b && !a.labels.every((l) => b.labels.includes(l)))
          return right(`enum ${now.type} lost ${a.labels.filter((l) => !b.labels.includes(l)).join(", ")}`);
        return wrong(`${t}.${c} is ${was.type} before and after the change set`);
      }
      const ta = before.types.get(unq(was.type));
      const tb = after.types.get(unq(now.type));
      if (ta?.labels?.length && tb?.labels) {
        const lost = ta.labels.filter((l) => !tb.labels.includes(l));
        if (lost.length === 0) return wrong(`${now.type} has every label ${was.type} had`);
        return right(`${now.type} lacks ${lost.join(", ")}, which ${was.type} had`);
      }
      if (widening(was.type, now.type)) return wrong(`${was.type} -> ${now.type} keeps every value`);
      return right(`${t}.${c} changed from ${was.type} to ${now.type}`);
    }
    case "rename-constraint": {
      x = m(/constraint (\S+) of ([^ ;]+) to/);
      if (!x) break;
      const [name, t] = [unq(x[1]), unq(x[2])];
      const now = [...after.constraints.values()].some((cs) => cs.has(name));
      if (now) return wrong(`a constraint ${name} still exists after the change set`);
      return right(`constraint ${name} of ${t} is gone after the change set`);
    }
    case "drop-type": {
      x = m(/^(?:dropping type|renaming) ([^ ;]+)/);
      if (!x) break;
      const t = unq(x[1]);
      const was = before.types.get(t);
      const now = after.types.get(t);
      if (!was) return wrong(`type ${t} did not exist before the change set`);
      if (now && (was.labels ?? []).every((l) => now.labels.includes(l)))
        return wrong(`type ${t} is back after the change set with every label it had`);
      return right(`type ${t} is gone (or lost labels) after the change set`);
    }
    case "check-on-existing-column": {
      x = m(/ on ([^ (.;]+)[(.]/);
      if (!x) break;
      const t = unq(x[1]);
      if (!before.relations.has(t)) return wrong(`${t} did not exist before the change set`);
      const had = new Set([...(before.constraints.get(t)?.values() ?? [])].map((c) => c.def));
      const added = [...(after.constraints.get(t)?.values() ?? [])].filter(
        (c) => c.type === "c" && !had.has(c.def),
      );
      if (added.length === 0) return wrong(`${t} has no CHECK after the change set it did not have before`);
      return right(`${t} gained ${added.map((c) => c.def).join("; ")}`);
    }
  }
  return {
    verdict: "wrong?",
    reason: `unreviewed: no mechanical check for ${d.ruleId} (${d.message.slice(0, 80)})`,
  };
}

/**
 * Recall: the breaking changes the catalog shows between before and after a change set
 * (a column of an old table gone, its type changed, made NOT NULL; a table or view gone) that
 * no finding of the change set names. Names compared loosely: a finding's message mentions the
 * relation (and column).
 */
function missed(before, after, findings) {
  const text = findings.map((d) => d.message.replace(/"/g, "")).join("\n");
  const named = (...parts) => parts.every((p) => text.includes(p));
  const out = [];
  for (const [t, was] of before.relations) {
    if (was.kind === "f") continue;
    const now = after.relations.get(t);
    if (!now) {
      if (!named(t)) out.push(`${was.kind === "v" ? "view" : "table"} ${t} is gone`);
      continue;
    }
    for (const [c, col] of was.columns) {
      const n = now.columns.get(c);
      if (!n) {
        if (!named(t, c)) out.push(`column ${t}.${c} is gone`);
      } else if (was.kind === "r" || was.kind === "p") {
        // A type renamed is named by the finding about the type.
        if (n.type !== col.type && !widening(col.type, n.type) && !named(t, c) && !named(unq(col.type)))
          out.push(`column ${t}.${c} changed type ${col.type} -> ${n.type}`);
        if (n.notNull && !col.notNull && !named(t, c)) out.push(`column ${t}.${c} became NOT NULL`);
      }
    }
  }
  return out;
}

/** Conversions that keep every value old code can write or read back (text form aside). */
function widening(a, b) {
  const rank = { smallint: 1, integer: 2, bigint: 3 };
  if (rank[a] && rank[b] && rank[b] >= rank[a]) return true;
  if (rank[a] && rank[a] <= 2 && (b === "double precision" || b === "numeric")) return true;
  if (b === "text" && /^(character varying|text)/.test(a)) return true;
  const n = (s) => /^character varying\((\d+)\)$/.exec(s)?.[1];
  if (n(a) && n(b) && Number(n(b)) >= Number(n(a))) return true;
  if (a === "json" && b === "jsonb") return false;
  return false;
}
