import { lintSources } from "@cutover/compat-lint";
import { describe, expect, it } from "vitest";
import { ids } from "./helpers.js";

/**
 * Minimal cases of the false-positive classes the real-world corpora showed (issue 17,
 * test/corpus-real): the first file is the history, the second the change set under review.
 */
const files = (...sqls: string[]) =>
  lintSources(sqls.map((content, i) => ({ path: `${i + 1}.sql`, content, inChangeSet: i > 0 })));

describe("false-positive classes from real histories", () => {
  it("a unique index swapped for a PRIMARY KEY over the same columns keeps old ON CONFLICT (cols) working", async () => {
    const base = `CREATE TABLE s (id text NOT NULL, project_id text NOT NULL);
CREATE UNIQUE INDEX s_id_project_id_key ON s (id, project_id);`;
    const swapped = await files(
      base,
      `DROP INDEX s_id_project_id_key;\nALTER TABLE s ADD CONSTRAINT s_pkey PRIMARY KEY (id, project_id);`,
    );
    expect(ids(swapped, "error")).toEqual([]);
    // Over fewer columns, old ON CONFLICT (id, project_id) has no arbiter any more.
    const narrowed = await files(
      base,
      `DROP INDEX s_id_project_id_key;\nALTER TABLE s ADD PRIMARY KEY (id);`,
    );
    expect(ids(narrowed, "error")).toContain("drop-unique-constraint");
  });

  it("a unique key widened by a column, or an index over a superset of an existing unique index, rejects nothing new", async () => {
    const base = `CREATE TABLE d (domain text, org text);\nCREATE UNIQUE INDEX d_domain_key ON d (domain);`;
    const widened = await files(
      base,
      `DROP INDEX d_domain_key;\nCREATE UNIQUE INDEX d_org_domain_key ON d (org, domain);\nCREATE UNIQUE INDEX d_domain_verified ON d (domain) WHERE org IS NOT NULL;`,
    );
    expect(ids(widened, "error")).toEqual(["drop-unique-constraint"]);
    const superset = await files(base, `CREATE UNIQUE INDEX d_domain_org_key ON d (domain, org);`);
    expect(ids(superset, "error")).toEqual([]);
    // An earlier file's drop does not count: old code may have written duplicates since.
    const later = await files(
      `${base}\nDROP INDEX d_domain_key;`,
      `CREATE UNIQUE INDEX d2 ON d (org, domain);`,
    );
    expect(ids(later, "error")).toEqual(["unique-on-existing-column"]);
  });

  it("a NOT NULL column replaced under its name (type change by drop-and-add) is one old INSERTs write", async () => {
    const base = "CREATE TABLE p (id int, prompt text NOT NULL, note text);";
    const replaced = await files(
      base,
      `ALTER TABLE p ADD COLUMN j jsonb;\nALTER TABLE p DROP COLUMN prompt;\nALTER TABLE p RENAME COLUMN j TO prompt;\nALTER TABLE p ALTER COLUMN prompt SET NOT NULL;`,
    );
    expect(ids(replaced, "error")).toEqual(["drop-column"]);
    const nullable = await files(
      base,
      `ALTER TABLE p DROP COLUMN note;\nALTER TABLE p ADD COLUMN note text;\nALTER TABLE p ALTER COLUMN note SET NOT NULL;`,
    );
    expect(ids(nullable, "error")).toEqual(["drop-column", "set-not-null"]);
  });

  it("a default dropped and set back with a cast to the column's own type is the same default", async () => {
    const base = `CREATE TYPE sev AS ENUM ('UNKNOWN', 'OK');\nCREATE TABLE m (severity sev NOT NULL DEFAULT 'UNKNOWN');`;
    const back = await files(
      base,
      `ALTER TABLE m ALTER COLUMN severity DROP DEFAULT, ALTER COLUMN severity SET DEFAULT 'UNKNOWN'::sev;`,
    );
    expect(ids(back, "error")).toEqual([]);
    const other = await files(
      base,
      `ALTER TABLE m ALTER COLUMN severity DROP DEFAULT, ALTER COLUMN severity SET DEFAULT 'OK'::sev;`,
    );
    expect(ids(other, "error")).toEqual(["drop-default"]);
  });

  it("integer -> double precision keeps every value; the finding names padding for char(n) -> varchar", async () => {
    const base = "CREATE TABLE sc (v integer, code char(8));";
    expect(ids(await files(base, "ALTER TABLE sc ALTER COLUMN v TYPE double precision;"), "error")).toEqual(
      [],
    );
    const r = await files(base, "ALTER TABLE sc ALTER COLUMN code TYPE varchar(8);");
    expect(r.diagnostics.find((d) => d.ruleId === "incompatible-type-change")?.message).toMatch(/padding/);
  });

  it("a foreign key that takes in a column the change set adds and nothing fills never meets an old INSERT", async () => {
    const base = `CREATE TABLE ds (id text, project_id text, PRIMARY KEY (id, project_id));
CREATE TABLE it (id text PRIMARY KEY, dataset_id text);`;
    const widened = await files(
      base,
      `ALTER TABLE it ADD COLUMN project_id text;
ALTER TABLE it ADD FOREIGN KEY (dataset_id, project_id) REFERENCES ds (id, project_id);`,
    );
    expect(ids(widened, "error")).toEqual([]);
    // Filled by a DEFAULT, or MATCH FULL: old rows and writes do meet it.
    const filled = await files(
      base,
      `ALTER TABLE it ADD COLUMN project_id text DEFAULT 'p';
ALTER TABLE it ADD FOREIGN KEY (dataset_id, project_id) REFERENCES ds (id, project_id);`,
    );
    expect(ids(filled, "error")).toEqual(["foreign-key-on-existing-column"]);
    const full = await files(
      base,
      `ALTER TABLE it ADD COLUMN project_id text;
ALTER TABLE it ADD FOREIGN KEY (dataset_id, project_id) REFERENCES ds (id, project_id) MATCH FULL;`,
    );
    expect(ids(full, "error")).toEqual(["foreign-key-on-existing-column"]);
  });

  it("a unique key over a column the change set adds, backfills and makes NOT NULL is set-not-null's finding alone", async () => {
    const r = await files(
      "CREATE TABLE ci (nid uuid, identifier text);",
      `ALTER TABLE ci ADD COLUMN type_id uuid;
UPDATE ci SET type_id = nid;
ALTER TABLE ci ALTER COLUMN type_id SET NOT NULL;
CREATE UNIQUE INDEX ci_uq ON ci (nid, type_id, identifier);`,
    );
    expect(ids(r, "error")).toEqual(["set-not-null"]);
  });

  describe("a view dropped and recreated in the change set", () => {
    const base = "CREATE TABLE t (id int, a text);";
    // The names PostgreSQL 15 gives these unaliased entries (checked with pg_attribute).
    const unaliased =
      "lower(a), a::text, 1+1, now(), CASE WHEN true THEN 1 ELSE id END, '1'::int, (SELECT count(*) FROM t), ARRAY[1], coalesce(a,'x'), current_timestamp, (SELECT 1 AS q), EXISTS(SELECT 1), greatest(1,2)";
    const pgNames =
      "lower, a, ?column?, now, id, int4, count, array, coalesce, current_timestamp, q, exists, greatest";
    const aliased = (names: string[]) =>
      unaliased
        .split(/, (?![^(]*\))/)
        .map((e, i) => `${e} AS "${names[i]}"`)
        .join(", ");

    it("infers unaliased columns' names as Postgres does", async () => {
      const names = pgNames.split(", ");
      const same = await files(
        `${base}\nCREATE VIEW v AS SELECT ${unaliased} FROM t;`,
        `DROP VIEW v;\nCREATE VIEW v AS SELECT ${aliased(names)} FROM t;`,
      );
      expect(ids(same, "error")).toEqual([]);
      const renamed = await files(
        `${base}\nCREATE VIEW v AS SELECT ${unaliased} FROM t;`,
        `DROP VIEW v;\nCREATE VIEW v AS SELECT ${aliased(names.map((n) => (n === "count" ? "n" : n)))} FROM t;`,
      );
      expect(ids(renamed, "error")).toEqual(["drop-view"]);
    });

    it("expands * over tables, CTEs and subqueries, and accepts a superset", async () => {
      const star = await files(
        `${base}\nCREATE VIEW v AS WITH x AS (SELECT t.* FROM t) SELECT x.*, (SELECT 1) FROM x;`,
        "DROP VIEW v;\nCREATE VIEW v AS WITH x AS (SELECT t.* FROM t) SELECT x.*, (SELECT 1), now() FROM x;",
      );
      expect(ids(star, "error")).toEqual([]);
      const sub = await files(
        `${base}\nCREATE VIEW v AS SELECT s.* FROM (SELECT id, a FROM t) s;`,
        "DROP VIEW v;\nCREATE VIEW v AS SELECT *, 1 AS k FROM (SELECT id, a FROM t) s;",
      );
      expect(ids(sub, "error")).toEqual([]);
      const lost = await files(
        `${base}\nCREATE VIEW v AS WITH x AS (SELECT t.* FROM t) SELECT x.* FROM x;`,
        "DROP VIEW v;\nCREATE VIEW v AS WITH x AS (SELECT id FROM t) SELECT x.* FROM x;",
      );
      expect(ids(lost, "error")).toEqual(["drop-view"]);
    });
  });

  it("a table rebuilt with CREATE TABLE ... AS keeps what old code uses, or is reported", async () => {
    const base = "CREATE TABLE t (id int PRIMARY KEY, a text DEFAULT 'x');";
    const rebuild = "CREATE TABLE t2 AS SELECT * FROM t;\nDROP TABLE t;\nALTER TABLE t2 RENAME TO t;";
    expect(ids(await files(base, rebuild), "error")).toEqual(["drop-table"]);
    const keys = `${rebuild}\nALTER TABLE t ADD PRIMARY KEY (id);\nALTER TABLE t ALTER COLUMN a SET DEFAULT 'x';`;
    expect(ids(await files(base, keys), "error")).toEqual([]);
    const lost =
      "CREATE TABLE t2 AS SELECT id FROM t;\nDROP TABLE t;\nALTER TABLE t2 RENAME TO t;\nALTER TABLE t ADD PRIMARY KEY (id);";
    expect(ids(await files(base, lost), "error")).toEqual(["drop-table"]);
  });

  it("a trigger function renamed, re-pointed or dropped breaks no caller", async () => {
    const base = `CREATE TABLE t (id int);
CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();`;
    const renamed = await files(
      base,
      "ALTER FUNCTION f() RENAME TO g;\nDROP TRIGGER tr ON t;\nCREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION g();",
    );
    expect(ids(renamed, "error")).toEqual([]);
    const replaced = await files(
      base,
      "CREATE FUNCTION g() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;\nDROP TRIGGER tr ON t;\nCREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION g();\nDROP FUNCTION f();",
    );
    expect(ids(replaced, "error")).toEqual([]);
    // A function code calls is still reported.
    const plain = await files(
      "CREATE FUNCTION h() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;",
      "DROP FUNCTION h();",
    );
    expect(ids(plain, "error")).toEqual(["drop-function"]);
  });

  it("DROP ... IF EXISTS of a function or type the replayed history does not have is a no-op", async () => {
    expect(
      ids(await files("CREATE TABLE t (id int);", "DROP FUNCTION IF EXISTS nope(int);"), "error"),
    ).toEqual([]);
    const renamed = await files(
      "CREATE TYPE e AS ENUM ('a');",
      "ALTER TYPE e RENAME TO e_old;\nDROP TYPE IF EXISTS e;",
    );
    // The rename is what old casts to e meet; the DROP finds nothing.
    expect(ids(renamed, "error")).toEqual(["drop-type"]);
    expect(renamed.diagnostics[0]?.message).toMatch(/^renaming e to e_old/);
  });

  it("a CHECK replaced in the same file by one every old value satisfies is clean; a tighter one is not", async () => {
    const num = "CREATE TABLE t (x int CONSTRAINT t_x_check CHECK (x > 0));";
    const swap = (expr: string) =>
      `ALTER TABLE t DROP CONSTRAINT t_x_check;\nALTER TABLE t ADD CONSTRAINT t_x_check CHECK (${expr});`;
    expect(ids(await files(num, swap("x >= 0")), "error")).toEqual([]);
    expect(ids(await files(num, swap("x > 0 AND x > -1")), "error")).toEqual([]);
    expect(ids(await files(num, swap("x > 5")), "error")).toEqual(["check-on-existing-column"]);
    const list = "CREATE TABLE f (k text CONSTRAINT f_k_check CHECK (k IN ('a', 'b')));";
    const swapList = (expr: string) =>
      `ALTER TABLE f DROP CONSTRAINT f_k_check;\nALTER TABLE f ADD CONSTRAINT f_k_check CHECK (${expr});`;
    expect(ids(await files(list, swapList("k IN ('a', 'b', 'c')")), "error")).toEqual([]);
    expect(ids(await files(list, swapList("k IN ('a')")), "error")).toEqual(["check-on-existing-column"]);
    // Dropped by an earlier file: old code may have written other values since.
    const later = await files(
      `${list}\nALTER TABLE f DROP CONSTRAINT f_k_check;`,
      "ALTER TABLE f ADD CHECK (k IN ('a', 'b', 'c'));",
    );
    expect(ids(later, "error")).toEqual(["check-on-existing-column"]);
  });

  it("a column renamed in the change set is judged once, by its rename", async () => {
    const r = await files(
      "CREATE TABLE inv (id int, role text NOT NULL, sender_id int);",
      `ALTER TABLE inv RENAME COLUMN role TO project_role;
ALTER TABLE inv ALTER COLUMN project_role DROP NOT NULL;
ALTER TABLE inv DROP COLUMN project_role;
ALTER TABLE inv RENAME COLUMN sender_id TO invited_by;
CREATE UNIQUE INDEX inv_invited_by ON inv (invited_by);`,
    );
    expect(ids(r, "error")).toEqual(["rename-column", "rename-column"]);
    // Renamed back, it is the column old code knows again.
    const back = await files(
      "CREATE TABLE inv (id int, role text);",
      "ALTER TABLE inv RENAME COLUMN role TO r;\nALTER TABLE inv RENAME COLUMN r TO role;\nALTER TABLE inv DROP COLUMN role;",
    );
    expect(ids(back, "error")).toContain("drop-column");
  });
});
