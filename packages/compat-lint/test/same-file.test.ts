import { lintSources } from "@cutover/compat-lint";
import { describe, expect, it } from "vitest";
import { ids } from "./helpers.js";

const files = (...sqls: string[]) =>
  lintSources(sqls.map((content, i) => ({ path: `${i + 1}.sql`, content, inChangeSet: i > 0 })));
const init = "CREATE TABLE orders (id bigint PRIMARY KEY, total numeric NOT NULL);";

describe("what a file may put back, and what it may not carry over", () => {
  it("withdraws a rename when the same file puts a view with the old name in its place", async () => {
    const r = await files(
      init,
      "ALTER TABLE orders RENAME TO purchases;\nCREATE VIEW orders AS SELECT * FROM purchases;",
    );
    expect(ids(r)).toEqual([]);
  });

  it("keeps it when the view in its place leaves out a column old code selects", async () => {
    const r = await files(
      init,
      "ALTER TABLE orders RENAME TO purchases;\nCREATE VIEW orders AS SELECT id FROM purchases;",
    );
    expect(ids(r)).toEqual(["rename-table"]);
    // Every old column, under its old name, is enough (the view may add some).
    const renamed = await files(
      init,
      "ALTER TABLE orders RENAME TO purchases;\nALTER TABLE purchases ADD COLUMN note text;\nCREATE VIEW orders AS SELECT id, total, note FROM purchases;",
    );
    expect(ids(renamed)).toEqual([]);
  });

  it("withdraws a table renamed away and back: the second rename is of a name the file gave it", async () => {
    const r = await files(
      init,
      "ALTER TABLE orders RENAME TO orders_tmp;\nALTER TABLE orders_tmp ADD COLUMN note text;\nALTER TABLE orders_tmp RENAME TO orders;",
    );
    expect(ids(r)).toEqual([]);
    // Renamed on to a third name, the old name is gone: the first rename is reported, once.
    const onward = await files(
      init,
      "ALTER TABLE orders RENAME TO orders_tmp;\nALTER TABLE orders_tmp RENAME TO purchases;",
    );
    expect(onward.diagnostics.map((d) => d.message.split(";")[0])).toEqual(["renaming orders to orders_tmp"]);
    // Moved to another schema and back, likewise.
    const moved = await files(
      `${init}\nCREATE SCHEMA archive;`,
      "ALTER TABLE orders SET SCHEMA archive;\nALTER TABLE archive.orders SET SCHEMA public;",
    );
    expect(ids(moved)).toEqual([]);
  });

  it("keeps it when the view comes in a later file: old code sees the gap between them", async () => {
    const r = await files(
      init,
      "ALTER TABLE orders RENAME TO purchases;",
      "CREATE VIEW orders AS SELECT * FROM purchases;",
    );
    expect(ids(r)).toEqual(["rename-table"]);
  });

  it("does not carry a file's SET search_path into the next file (a new session)", async () => {
    const r = await files(
      `${init}\nCREATE SCHEMA billing;`,
      "SET search_path = billing, public;",
      "CREATE TABLE billing.orders (id bigint);\nDROP TABLE orders;",
    );
    expect(ids(r)).toEqual(["drop-table"]);
  });
});

describe("set_config('search_path', ...), pg_dump's way of setting the path", () => {
  it("is SET search_path: an unqualified CREATE goes to its first schema, not over the old table", async () => {
    // PG 15: this creates billing.orders and drops the old public.orders.
    const r = await files(
      `${init}\nCREATE SCHEMA billing;`,
      "SELECT pg_catalog.set_config('search_path', 'billing', false);\nCREATE TABLE orders (id bigint);\nDROP TABLE public.orders;",
    );
    expect(ids(r)).toEqual(["drop-table"]);
    const local = await files(
      `${init}\nCREATE SCHEMA billing;`,
      "SELECT set_config('search_path', '\"billing\", public', true);\nCREATE TABLE orders (id bigint);\nDROP TABLE public.orders;",
    );
    expect(ids(local)).toEqual(["drop-table"]);
  });

  it("with pg_dump's empty path keeps resolving qualified names (unqualified ones fail in PG)", async () => {
    const r = await files(
      init,
      "SELECT pg_catalog.set_config('search_path', '', false);\nDROP TABLE public.orders;",
    );
    expect(ids(r)).toEqual(["drop-table"]);
  });
});

describe("a view dropped and recreated", () => {
  const view =
    "CREATE TABLE accounts (id bigint, email text, name text);\nCREATE VIEW directory AS SELECT id, email FROM accounts;";

  it("is withdrawn when the same file recreates it with every old column", async () => {
    const r = await files(
      view,
      "DROP VIEW directory;\nCREATE VIEW directory AS SELECT id, email, name FROM accounts;",
    );
    expect(ids(r)).toEqual([]);
  });

  it("is kept when the view comes back in a later file, or with a column retyped", async () => {
    const later = await files(
      view,
      "DROP VIEW directory;",
      "CREATE VIEW directory AS SELECT * FROM accounts;",
    );
    expect(ids(later)).toEqual(["drop-view"]);
    const retyped = await files(
      view,
      "DROP VIEW directory;\nCREATE VIEW directory AS SELECT id::text AS id, email FROM accounts;",
    );
    expect(ids(retyped)).toEqual(["drop-view"]);
  });

  it("is kept when the model could not name the old view's columns", async () => {
    const r = await files(
      // `*` over a table created outside the linted files: its columns are unknown. (An unnamed
      // expression such as email || '!' is named "?column?", as Postgres names it, since issue 17.)
      "CREATE VIEW labels AS SELECT * FROM legacy_accounts;",
      "DROP VIEW labels;\nCREATE VIEW labels AS SELECT * FROM legacy_accounts;",
    );
    expect(ids(r)).toEqual(["drop-view"]);
  });
});

describe("CREATE TABLE (LIKE ...)", () => {
  it("copies columns and types, so a later widening is judged, not reported as unknown", async () => {
    const r = await files(
      "CREATE TABLE docs (id bigint PRIMARY KEY, title varchar(100) NOT NULL DEFAULT '');",
      "CREATE TABLE docs_archive (LIKE docs INCLUDING ALL);",
      "ALTER TABLE docs_archive ALTER COLUMN title TYPE varchar(200);\nALTER TABLE docs_archive ALTER COLUMN title DROP DEFAULT;",
    );
    // INCLUDING ALL copied the default, so dropping it is a contract change; the widening is fine.
    expect(ids(r)).toEqual(["drop-default"]);
  });

  it("copies no default without INCLUDING DEFAULTS", async () => {
    const r = await files(
      "CREATE TABLE docs (id bigint PRIMARY KEY, title varchar(100) NOT NULL DEFAULT '');",
      "CREATE TABLE docs_archive (LIKE docs);",
      "ALTER TABLE docs_archive ALTER COLUMN title DROP DEFAULT;",
    );
    expect(ids(r)).toEqual([]);
  });
});

describe("row-level security enabled with an open policy", () => {
  const docs = "CREATE TABLE docs (id bigint, tenant text);";

  it("is kept when a RESTRICTIVE policy filters rows whatever the open one admits", async () => {
    // PG 15, non-owner role: 0 of 2 rows visible with open + restrictive (tenant = ...).
    const r = await files(
      docs,
      "ALTER TABLE docs ENABLE ROW LEVEL SECURITY;\nCREATE POLICY everyone ON docs USING (true);\nCREATE POLICY per_tenant ON docs AS RESTRICTIVE USING (tenant = current_setting('app.tenant'));",
    );
    expect(ids(r)).toEqual(["enable-row-level-security"]);
  });

  it("is kept when the file narrows or renames-and-drops the open policy afterwards", async () => {
    const narrowed = await files(
      docs,
      "CREATE POLICY everyone ON docs USING (true);\nALTER TABLE docs ENABLE ROW LEVEL SECURITY;\nALTER POLICY everyone ON docs USING (id > 100);",
    );
    expect(ids(narrowed)).toEqual(["enable-row-level-security"]);
    const toRole = await files(
      docs,
      "ALTER TABLE docs ENABLE ROW LEVEL SECURITY;\nCREATE POLICY everyone ON docs USING (true);\nALTER POLICY everyone ON docs TO app_reader;",
    );
    expect(ids(toRole)).toEqual(["enable-row-level-security"]);
    const dropped = await files(
      docs,
      "ALTER TABLE docs ENABLE ROW LEVEL SECURITY;\nCREATE POLICY everyone ON docs USING (true);\nALTER POLICY everyone ON docs RENAME TO legacy;\nDROP POLICY legacy ON docs;",
    );
    expect(ids(dropped)).toEqual(["enable-row-level-security"]);
  });

  it("is still withdrawn beside a restrictive policy that restricts nothing, or after a harmless ALTER POLICY", async () => {
    const r = await files(
      docs,
      "ALTER TABLE docs ENABLE ROW LEVEL SECURITY;\nCREATE POLICY everyone ON docs USING (true);\nCREATE POLICY noop ON docs AS RESTRICTIVE FOR SELECT TO app USING (true);\nALTER POLICY everyone ON docs RENAME TO all_rows;\nALTER POLICY all_rows ON docs TO PUBLIC WITH CHECK (true);",
    );
    expect(ids(r)).toEqual([]);
  });
});

describe("a unique index rebuilt under its old name", () => {
  const users = "CREATE TABLE users (id bigint PRIMARY KEY, email text, deleted boolean);";

  it("is clean as the documented recipe: a copy of the same shape, drop, rename", async () => {
    const r = await files(
      `${users}\nCREATE UNIQUE INDEX users_email_lower ON users (lower(email));`,
      "CREATE UNIQUE INDEX CONCURRENTLY users_email_lower_new ON users (lower(email));\nDROP INDEX CONCURRENTLY users_email_lower;\nALTER INDEX users_email_lower_new RENAME TO users_email_lower;",
    );
    expect(ids(r)).toEqual([]);
  });

  it("is kept when the copy is partial or over an expression: old ON CONFLICT (email) cannot use it", async () => {
    // PG 15: after the swap to the partial index, INSERT ... ON CONFLICT (email) fails with
    // 'there is no unique or exclusion constraint matching the ON CONFLICT specification'.
    const partial = await files(
      `${users}\nCREATE UNIQUE INDEX users_email ON users (email);`,
      "CREATE UNIQUE INDEX CONCURRENTLY users_email_new ON users (email) WHERE NOT deleted;\nDROP INDEX CONCURRENTLY users_email;\nALTER INDEX users_email_new RENAME TO users_email;",
    );
    expect(ids(partial)).toContain("drop-unique-constraint");
    const expression = await files(
      `${users}\nCREATE UNIQUE INDEX users_email ON users (email);`,
      "CREATE UNIQUE INDEX CONCURRENTLY users_email_new ON users (lower(email));\nDROP INDEX CONCURRENTLY users_email;\nALTER INDEX users_email_new RENAME TO users_email;",
    );
    expect(ids(expression)).toContain("drop-unique-constraint");
  });
});

describe("a unique key dropped and re-added by the same file", () => {
  const keyed =
    "CREATE TABLE accounts (id bigint PRIMARY KEY, email text, CONSTRAINT accounts_email_key UNIQUE (email));";

  it("is clean under another name or as an index over the same columns: the stored values already satisfy it", async () => {
    const renamed = await files(
      keyed,
      "ALTER TABLE accounts DROP CONSTRAINT accounts_email_key;\nALTER TABLE accounts ADD CONSTRAINT accounts_email_uq UNIQUE (email);",
    );
    // The drop is still reported: old ON CONFLICT ON CONSTRAINT accounts_email_key names it.
    expect(ids(renamed, "error")).toEqual(["drop-unique-constraint"]);
    const same = await files(
      keyed,
      "ALTER TABLE accounts DROP CONSTRAINT accounts_email_key, ADD CONSTRAINT accounts_email_key UNIQUE (email);",
    );
    expect(ids(same, "error")).toEqual([]);
    const index = await files(
      keyed,
      "ALTER TABLE accounts DROP CONSTRAINT accounts_email_key;\nCREATE UNIQUE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);",
    );
    expect(ids(index, "error")).toEqual(["drop-unique-constraint"]);
  });

  it("is reported over other columns, with NULLS NOT DISTINCT, or when an earlier file dropped it", async () => {
    const wider = await files(
      `${keyed}\nALTER TABLE accounts ADD COLUMN tenant bigint;`,
      "ALTER TABLE accounts DROP CONSTRAINT accounts_email_key;\nALTER TABLE accounts ADD CONSTRAINT accounts_tenant_key UNIQUE (tenant);",
    );
    expect(ids(wider, "error")).toEqual(["drop-unique-constraint", "unique-on-existing-column"]);
    const nulls = await files(
      keyed,
      "ALTER TABLE accounts DROP CONSTRAINT accounts_email_key, ADD CONSTRAINT accounts_email_key UNIQUE NULLS NOT DISTINCT (email);",
    );
    // The key is back under its name (the drop is withdrawn), but now two NULL emails collide.
    expect(ids(nulls, "error")).toEqual(["unique-on-existing-column"]);
    const later = await files(
      keyed,
      "ALTER TABLE accounts DROP CONSTRAINT accounts_email_key;",
      "ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE (email);",
    );
    expect(ids(later, "error")).toEqual(["drop-unique-constraint", "unique-on-existing-column"]);
  });
});

describe("a view over a CTE", () => {
  it("does not depend on a table the CTE's name shadows: DROP TABLE ... CASCADE of it leaves the view", async () => {
    // PG 15: DROP TABLE c CASCADE leaves a view WITH c AS (...) SELECT * FROM c in place.
    const r = await files(
      "CREATE TABLE c (z int);\nCREATE TABLE t (id bigint, a int);\nCREATE VIEW report AS WITH c AS (SELECT id FROM t) SELECT * FROM c;",
      "DROP TABLE c CASCADE;",
    );
    expect(ids(r)).toEqual(["drop-table"]);
  });
});

describe("sequences a serial or identity column creates", () => {
  it("are new with their table: revoking on them in the same file is not reported", async () => {
    // PG 15 names them <table>_<column>_seq (or SEQUENCE NAME); REVOKE ALL ON SEQUENCE t2_id_seq works right after.
    const r = await files(
      init,
      "CREATE TABLE t2 (id serial PRIMARY KEY, n bigint GENERATED BY DEFAULT AS IDENTITY, m int GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME t2_m_ids));\nREVOKE ALL ON SEQUENCE t2_id_seq, t2_n_seq, t2_m_ids FROM PUBLIC;\nALTER TABLE orders ADD COLUMN seq bigserial;\nREVOKE ALL ON SEQUENCE orders_seq_seq FROM PUBLIC;",
    );
    // (ADD COLUMN bigserial rewrites orders: a table-rewrite warning.)
    expect(ids(r, "error")).toEqual([]);
  });

  it("are truncated to 63 bytes the way PG truncates them, and are old once their file is done", async () => {
    const table = "a".repeat(40);
    const column = "b".repeat(40);
    // PG 15: aaaa...(29)_bbbb...(29)_seq, 63 bytes.
    const seq = `${"a".repeat(29)}_${"b".repeat(29)}_seq`;
    const r = await files(
      init,
      `CREATE TABLE ${table} (${column} serial);\nREVOKE ALL ON SEQUENCE ${seq} FROM PUBLIC;`,
      `REVOKE ALL ON SEQUENCE ${seq} FROM PUBLIC;`,
    );
    expect(r.diagnostics.map((d) => `${d.file}:${d.ruleId}`)).toEqual(["3.sql:revoke-privilege"]);
  });

  it("go with their table: a sequence of that name created after DROP TABLE is new", async () => {
    const r = await files(
      "CREATE TABLE t3 (id serial);",
      "DROP TABLE t3;\nCREATE SEQUENCE t3_id_seq;\nREVOKE ALL ON SEQUENCE t3_id_seq FROM PUBLIC;",
    );
    expect(ids(r)).toEqual(["drop-table"]);
  });
});

describe("revoke-privilege messages", () => {
  it("name a large object by its OID and other objects by their kind", async () => {
    const r = await files(
      init,
      "REVOKE ALL ON LARGE OBJECT 1234 FROM PUBLIC;\nREVOKE USAGE ON LANGUAGE plpgsql FROM PUBLIC;\nREVOKE USAGE ON FOREIGN SERVER files FROM app;",
    );
    expect(r.diagnostics.map((d) => d.message.split(";")[0])).toEqual([
      "revoking all privileges on large object 1234",
      "revoking usage on language plpgsql",
      "revoking usage on foreign server files",
    ]);
  });
});

describe("a new column whose domain has a DEFAULT", () => {
  // PG 15: an INSERT that omits the column stores the domain's default, unless the column
  // has a DEFAULT of its own, DEFAULT NULL included (SET DEFAULT NULL too; DROP DEFAULT
  // brings the domain's back).
  const init = "CREATE DOMAIN label AS text DEFAULT 'none';\nCREATE TABLE t (id int);";

  it("is not left NULL by old INSERTs: SET NOT NULL and CHECK (c IS NOT NULL) on it are clean", async () => {
    const r = await files(
      init,
      "ALTER TABLE t ADD COLUMN a label;\nALTER TABLE t ALTER COLUMN a SET NOT NULL;\nALTER TABLE t ADD COLUMN b label;\nALTER TABLE t ADD CONSTRAINT t_b_present CHECK (b IS NOT NULL);\nALTER TABLE t ADD COLUMN c label CHECK (c IS NOT NULL);",
    );
    expect(ids(r, "error")).toEqual([]);
  });

  it("is left NULL when the column says DEFAULT NULL or SET DEFAULT NULL, and not after DROP DEFAULT", async () => {
    const r = await files(
      init,
      "ALTER TABLE t ADD COLUMN a label DEFAULT NULL;\nALTER TABLE t ALTER COLUMN a SET NOT NULL;\nALTER TABLE t ADD COLUMN b label;\nALTER TABLE t ALTER COLUMN b SET DEFAULT NULL;\nALTER TABLE t ADD CONSTRAINT t_b_present CHECK (b IS NOT NULL);\nALTER TABLE t ADD COLUMN c label DEFAULT NULL;\nALTER TABLE t ALTER COLUMN c DROP DEFAULT;\nALTER TABLE t ALTER COLUMN c SET NOT NULL;",
    );
    expect(ids(r, "error")).toEqual(["set-not-null", "check-on-existing-column"]);
  });

  it("makes a unique index over it and an old column reject old duplicate INSERTs", async () => {
    // PG 15: INSERT INTO t (id) VALUES (1) twice: duplicate key (1, none).
    const r = await files(
      init,
      "ALTER TABLE t ADD COLUMN tag label;\nCREATE UNIQUE INDEX t_id_tag ON t (id, tag);",
    );
    expect(ids(r)).toContain("unique-on-existing-column");
  });

  it("ALTER DOMAIN ... DROP DEFAULT is drop-default for the columns that relied on it", async () => {
    // PG 15: CREATE DOMAIN cnt AS int DEFAULT 0 NOT NULL; a column of it added without a default
    // of its own; after ALTER DOMAIN cnt DROP DEFAULT, INSERT INTO t (id) fails "domain cnt does
    // not allow null values" (and an old nullable column of label stores NULL instead of 'none').
    const counted = `${init}\nCREATE DOMAIN cnt AS int DEFAULT 0 NOT NULL;`;
    const dropped = await files(counted, "ALTER TABLE t ADD COLUMN n cnt;\nALTER DOMAIN cnt DROP DEFAULT;");
    expect(ids(dropped, "error")).toEqual(["drop-default"]);
    expect(dropped.diagnostics[0]!.message).toMatch(/^dropping the default of domain cnt, which fills t\.n;/);
    const old = await files(`${init}\nALTER TABLE t ADD COLUMN a label;`, "ALTER DOMAIN label DROP DEFAULT;");
    expect(ids(old, "error")).toEqual(["drop-default"]);
    // Clean: no column relies on it (own default, DEFAULT NULL, a new nullable column, a new table).
    for (const sql of [
      "ALTER TABLE t ADD COLUMN n cnt DEFAULT 1;\nALTER DOMAIN cnt DROP DEFAULT;",
      "ALTER TABLE t ADD COLUMN a label;\nALTER DOMAIN label DROP DEFAULT;",
      "CREATE TABLE u (id int, n cnt);\nALTER DOMAIN cnt DROP DEFAULT;",
      "ALTER DOMAIN cnt DROP DEFAULT;",
    ]) {
      const r = await files(counted, sql);
      expect(ids(r, "error"), sql).toEqual([]);
    }
  });

  it("an array of a NOT NULL domain is not NOT NULL: adding one is clean", async () => {
    // PG 15: ALTER TABLE t ADD COLUMN c cnt[]; INSERT INTO t (id) VALUES (1) stores NULL.
    const r = await files(`${init}\nCREATE DOMAIN cnt AS int NOT NULL;`, "ALTER TABLE t ADD COLUMN c cnt[];");
    expect(ids(r, "error")).toEqual([]);
  });

  it("names the right old writes when an old column of the domain becomes NOT NULL", async () => {
    const r = await files(
      `${init}\nALTER TABLE t ADD COLUMN a label;`,
      "ALTER TABLE t ALTER COLUMN a SET NOT NULL;",
    );
    expect(r.diagnostics.map((d) => d.message)).toEqual([
      "SET NOT NULL on existing column t.a; old code that writes NULL explicitly start failing",
    ]);
  });
});

describe("row-level security enabled by an earlier file with an open policy", () => {
  const docs =
    "CREATE TABLE docs (id bigint, tenant text);\nALTER TABLE docs ENABLE ROW LEVEL SECURITY;\nCREATE POLICY everyone ON docs USING (true);";

  it("reports a later DROP POLICY, narrowing ALTER POLICY or RESTRICTIVE policy: old code then sees fewer rows", async () => {
    // PG 15, non-owner role, 2 rows: after each of these it sees 0 (drop, restrictive) or 0 of 2 (id > 100).
    for (const sql of [
      "DROP POLICY everyone ON docs;",
      "ALTER POLICY everyone ON docs USING (id > 100);",
      "ALTER POLICY everyone ON docs TO app_reader;",
      "CREATE POLICY per_tenant ON docs AS RESTRICTIVE USING (tenant = current_setting('app.tenant'));",
      "ALTER POLICY everyone ON docs RENAME TO legacy;\nDROP POLICY legacy ON docs;",
    ]) {
      const r = await files(docs, sql);
      expect(ids(r), sql).toEqual(["enable-row-level-security"]);
    }
    const r = await files(docs, "DROP POLICY everyone ON docs;");
    expect(r.diagnostics[0]?.message).toMatch(
      /^dropping policy everyone on docs, the one that admits every row; row-level security is enabled on docs/,
    );
  });

  it("is clean when another open policy remains, the file puts one back, or RLS is disabled", async () => {
    for (const sql of [
      "CREATE POLICY all_rows ON docs USING (true);\nDROP POLICY everyone ON docs;",
      "DROP POLICY everyone ON docs;\nCREATE POLICY everyone ON docs USING (true);",
      "ALTER TABLE docs DISABLE ROW LEVEL SECURITY;\nDROP POLICY everyone ON docs;",
      "CREATE POLICY readers ON docs FOR SELECT TO app_reader USING (tenant = 'a');",
      "ALTER POLICY everyone ON docs RENAME TO all_rows;",
      // Enabled already: nothing changes for old code.
      "ALTER TABLE docs ENABLE ROW LEVEL SECURITY;",
    ]) {
      const r = await files(docs, sql);
      expect(ids(r), sql).toEqual([]);
    }
  });

  it("is left to the ENABLE finding when RLS was enabled in the same change set", async () => {
    const r = await files(
      "CREATE TABLE docs (id bigint, tenant text);",
      "ALTER TABLE docs ENABLE ROW LEVEL SECURITY;\nCREATE POLICY everyone ON docs USING (true);\nDROP POLICY everyone ON docs;",
    );
    expect(ids(r)).toEqual(["enable-row-level-security"]);
    expect(r.diagnostics[0]?.message).toMatch(/^ENABLE ROW LEVEL SECURITY/);
  });

  it("is reported when one change set (--since) enabled RLS in an earlier file and drops the policy in a later one", async () => {
    const r = await lintSources(
      [
        { path: "1.sql", content: "CREATE TABLE docs (id bigint, tenant text);", inChangeSet: false },
        {
          path: "2.sql",
          content:
            "ALTER TABLE docs ENABLE ROW LEVEL SECURITY;\nCREATE POLICY everyone ON docs USING (true);",
          inChangeSet: true,
        },
        { path: "3.sql", content: "DROP POLICY everyone ON docs;", inChangeSet: true },
      ],
      { changeSet: "inputs" },
    );
    expect(r.diagnostics.map((d) => `${d.file}:${d.ruleId}`)).toEqual(["3.sql:enable-row-level-security"]);
  });
});

describe("indexes of a renamed table", () => {
  it("follow the table: the unique-index rebuild recipe after ALTER TABLE ... RENAME TO is clean", async () => {
    const r = await files(
      "CREATE TABLE users (id bigint PRIMARY KEY, email text);\nCREATE UNIQUE INDEX users_email ON users (email);",
      "ALTER TABLE users RENAME TO accounts;\nCREATE VIEW users AS SELECT * FROM accounts;",
      "CREATE UNIQUE INDEX CONCURRENTLY accounts_email_new ON accounts (email);\nDROP INDEX CONCURRENTLY users_email;\nALTER INDEX accounts_email_new RENAME TO users_email;",
    );
    expect(ids(r, "error")).toEqual([]);
  });
  it("move with it to another schema (SET SCHEMA), like its serial sequence", async () => {
    // PG 15: ALTER TABLE t SET SCHEMA app moves t_b_uq and t_id_seq to app too.
    const init =
      "CREATE SCHEMA app;\nCREATE TABLE t (id serial PRIMARY KEY, b int);\nCREATE UNIQUE INDEX t_b_uq ON t (b);";
    const moved = "ALTER TABLE t SET SCHEMA app;\nCREATE VIEW public.t AS SELECT * FROM app.t;";
    const r = await files(init, moved, "DROP INDEX app.t_b_uq;");
    expect(ids(r, "error")).toEqual(["drop-unique-constraint"]);
    // The names left in public are free: a new index or sequence there is not the old one.
    const free = await files(
      init,
      moved,
      "CREATE SEQUENCE public.t_id_seq;\nCREATE TABLE u (b int);\nCREATE INDEX t_b_uq ON u (b);\nDROP INDEX public.t_b_uq;",
    );
    expect(ids(free, "error")).toEqual([]);
  });
});

describe("an enum rebuilt the way TypeORM and Prisma generate it", () => {
  const enumBase =
    'CREATE TYPE "public"."user_role_enum" AS ENUM(\'admin\', \'user\');\nCREATE TABLE "user" ("id" SERIAL NOT NULL, "role" "public"."user_role_enum" NOT NULL DEFAULT \'user\');';
  // TypeORM: rename the old type away, create the new one under the name, convert, drop the old one.
  const typeorm = (values: string, dflt = "'user'") =>
    `ALTER TYPE "public"."user_role_enum" RENAME TO "user_role_enum_old";
CREATE TYPE "public"."user_role_enum" AS ENUM(${values});
ALTER TABLE "user" ALTER COLUMN "role" DROP DEFAULT;
ALTER TABLE "user" ALTER COLUMN "role" TYPE "public"."user_role_enum" USING "role"::"text"::"public"."user_role_enum";
ALTER TABLE "user" ALTER COLUMN "role" SET DEFAULT ${dflt};
DROP TYPE "public"."user_role_enum_old";`;
  const roleBase =
    'CREATE TYPE "Role" AS ENUM (\'USER\', \'ADMIN\');\nCREATE TABLE "User" ("id" SERIAL NOT NULL, "role" "Role" NOT NULL DEFAULT \'USER\');';
  // Prisma's -- AlterEnum: create Role_new, convert, swap the names, drop the old one.
  const prisma = (values: string) => `BEGIN;
CREATE TYPE "Role_new" AS ENUM (${values});
ALTER TABLE "User" ALTER COLUMN "role" DROP DEFAULT;
ALTER TABLE "User" ALTER COLUMN "role" TYPE "Role_new" USING ("role"::text::"Role_new");
ALTER TYPE "Role" RENAME TO "Role_old";
ALTER TYPE "Role_new" RENAME TO "Role";
DROP TYPE "Role_old";
ALTER TABLE "User" ALTER COLUMN "role" SET DEFAULT 'USER';
COMMIT;`;

  it("is clean when the new enum keeps every old value in order: the name, the values and the default are back", async () => {
    expect(ids(await files(enumBase, typeorm("'admin', 'user', 'guest'")), "error")).toEqual([]);
    expect(ids(await files(enumBase, typeorm("'admin', 'guest', 'user'")), "error")).toEqual([]);
    expect(ids(await files(roleBase, prisma("'USER', 'ADMIN', 'EDITOR'")), "error")).toEqual([]);
  });

  it("reports the column's change when a value is removed, reordered or renamed (once, not as a dropped type)", async () => {
    expect(ids(await files(enumBase, typeorm("'admin'", "'admin'")), "error")).toEqual([
      "drop-default",
      "incompatible-type-change",
    ]);
    expect(ids(await files(enumBase, typeorm("'user', 'admin'")), "error")).toEqual([
      "incompatible-type-change",
    ]);
    expect(ids(await files(enumBase, typeorm("'admin', 'member'", "'member'")), "error")).toEqual([
      "drop-default",
      "incompatible-type-change",
    ]);
    const removed = await files(roleBase, prisma("'USER'"));
    expect(ids(removed, "error")).toEqual(["incompatible-type-change"]);
    expect(removed.diagnostics.find((d) => d.ruleId === "incompatible-type-change")?.message).toContain(
      "lacks 'ADMIN'",
    );
  });

  it("keeps drop-default when the file sets a different default back", async () => {
    const r = await files(enumBase, typeorm("'admin', 'user', 'guest'", "'guest'"));
    expect(ids(r, "error")).toEqual(["drop-default"]);
  });

  it("counts a value added by the same change set as new: the rebuild may leave it out", async () => {
    const r = await files(
      enumBase,
      `ALTER TYPE "public"."user_role_enum" ADD VALUE 'tmp';\n${typeorm("'admin', 'user'")}`,
    );
    expect(ids(r, "error")).toEqual([]);
  });

  it("keeps drop-type when the old enum stays (columns old code casts may still have it) or comes back in a later file", async () => {
    const kept = await files(
      enumBase,
      `ALTER TYPE "public"."user_role_enum" RENAME TO "user_role_enum_old";\nCREATE TYPE "public"."user_role_enum" AS ENUM('admin', 'user', 'guest');`,
    );
    expect(ids(kept, "error")).toEqual(["drop-type"]);
    const later = await files(
      "CREATE TYPE mood AS ENUM ('ok', 'meh');",
      "ALTER TYPE mood RENAME TO mood_old;",
      "CREATE TYPE mood AS ENUM ('ok', 'meh', 'great');\nDROP TYPE mood_old;",
    );
    // The rename in file 2, and file 3's drop of mood_old: the generation after file 2 knows that name.
    expect(ids(later, "error")).toEqual(["drop-type", "drop-type"]);
  });

  it("reports an enum no column has (old code only casts to it) rebuilt without a value", async () => {
    const r = await files(
      "CREATE TYPE mood AS ENUM ('ok', 'meh');",
      "ALTER TYPE mood RENAME TO mood_old;\nCREATE TYPE mood AS ENUM ('ok');\nDROP TYPE mood_old;",
    );
    expect(ids(r, "error")).toEqual(["drop-type"]);
    expect(r.diagnostics[0]?.message).toContain("lacks or reorders its values ('ok', 'meh')");
  });

  it("reports DROP TYPE x_old CASCADE: it drops the columns still of that type", async () => {
    const r = await files(
      enumBase,
      `ALTER TYPE "public"."user_role_enum" RENAME TO "user_role_enum_old";\nCREATE TYPE "public"."user_role_enum" AS ENUM('admin', 'user');\nDROP TYPE "public"."user_role_enum_old" CASCADE;`,
    );
    expect(ids(r, "error")).toContain("drop-type");
  });

  it("reports a column moved to a superset enum of another name: old casts to the old name no longer match it", async () => {
    const r = await files(
      roleBase,
      'CREATE TYPE "Role2" AS ENUM (\'USER\', \'ADMIN\', \'EDITOR\');\nALTER TABLE "User" ALTER COLUMN "role" TYPE "Role2" USING ("role"::text::"Role2");',
    );
    expect(ids(r, "error")).toEqual(["incompatible-type-change"]);
  });
});

describe("a foreign key redefined over the same columns (Prisma's DROP CONSTRAINT / ADD CONSTRAINT for a new onDelete)", () => {
  const fkBase = (actions: string) =>
    `CREATE TABLE "User" ("id" SERIAL NOT NULL, CONSTRAINT "User_pkey" PRIMARY KEY ("id"));
CREATE TABLE "Post" ("id" SERIAL NOT NULL, "authorId" INTEGER, "editorId" INTEGER);
ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ${actions};`;
  const redefine = (actions: string, target = '"User"("id")', name = "Post_authorId_fkey") =>
    `ALTER TABLE "Post" DROP CONSTRAINT "Post_authorId_fkey";
ALTER TABLE "Post" ADD CONSTRAINT "${name}" FOREIGN KEY ("authorId") REFERENCES ${target} ${actions};`;
  const errors = async (before: string, after: string) => ids(await files(fkBase(before), after), "error");

  it("is clean when old code's writes meet nothing new: a delete that failed may now cascade or set NULL", async () => {
    expect(
      await errors("ON DELETE RESTRICT ON UPDATE CASCADE", redefine("ON DELETE CASCADE ON UPDATE CASCADE")),
    ).toEqual([]);
    expect(await errors("ON DELETE NO ACTION", redefine("ON DELETE SET NULL"))).toEqual([]);
    expect(await errors("ON DELETE RESTRICT", redefine("ON DELETE NO ACTION"))).toEqual([]);
    // Not deferrable, NO ACTION and RESTRICT both check at the end of the statement.
    expect(await errors("ON DELETE NO ACTION", redefine("ON DELETE RESTRICT"))).toEqual([]);
    // SET NULL naming every column of the key is plain SET NULL (PG 15: the same rows change).
    expect(await errors("ON DELETE SET NULL", redefine('ON DELETE SET NULL ("authorId")'))).toEqual([]);
    expect(await errors('ON DELETE SET NULL ("authorId")', redefine("ON DELETE SET NULL"))).toEqual([]);
    // Under a new name, and REFERENCES without a column list (the primary key).
    expect(await errors("", redefine("ON DELETE CASCADE", '"User"', "Post_author_fk"))).toEqual([]);
    // Added beside the old one, which is dropped afterwards.
    expect(
      await errors(
        "",
        `ALTER TABLE "Post" ADD CONSTRAINT "Post_author_fk2" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE CASCADE;\nALTER TABLE "Post" DROP CONSTRAINT "Post_authorId_fkey";`,
      ),
    ).toEqual([]);
  });

  it("reports a delete that used to succeed and now fails or does something else", async () => {
    const restrict = await files(fkBase("ON DELETE CASCADE"), redefine("ON DELETE RESTRICT"));
    expect(ids(restrict, "error")).toEqual(["foreign-key-on-existing-column"]);
    expect(restrict.diagnostics.find((d) => d.severity === "error")?.message).toContain(
      "ON DELETE CASCADE becomes RESTRICT",
    );
    expect(await errors("ON DELETE SET NULL", redefine("ON DELETE CASCADE"))).toEqual([
      "foreign-key-on-existing-column",
    ]);
    expect(await errors("ON DELETE CASCADE", redefine("ON DELETE SET NULL"))).toEqual([
      "foreign-key-on-existing-column",
    ]);
    expect(await errors("ON UPDATE CASCADE", redefine("ON UPDATE NO ACTION"))).toEqual([
      "foreign-key-on-existing-column",
    ]);
  });

  it("reports what stops deferring: RESTRICT for a deferrable NO ACTION, or NOT DEFERRABLE", async () => {
    expect(
      await errors(
        "DEFERRABLE INITIALLY DEFERRED",
        redefine("ON DELETE RESTRICT DEFERRABLE INITIALLY DEFERRED"),
      ),
    ).toEqual(["foreign-key-on-existing-column"]);
    expect(await errors("DEFERRABLE INITIALLY DEFERRED", redefine(""))).toEqual([
      "foreign-key-on-existing-column",
    ]);
    expect(await errors("", redefine("DEFERRABLE INITIALLY DEFERRED"))).toEqual([]);
  });

  it("reports a key to another target or over other columns, or one dropped by an earlier change set", async () => {
    const other = `CREATE TABLE "Team" ("id" SERIAL PRIMARY KEY);\n${redefine("", '"Team"("id")')}`;
    expect(await errors("", other)).toEqual(["foreign-key-on-existing-column"]);
    expect(
      await errors(
        "",
        `ALTER TABLE "Post" DROP CONSTRAINT "Post_authorId_fkey";\nALTER TABLE "Post" ADD CONSTRAINT "Post_editorId_fkey" FOREIGN KEY ("editorId") REFERENCES "User"("id");`,
      ),
    ).toEqual(["foreign-key-on-existing-column"]);
    // Old code ran without the key in between and may have written orphans.
    const later = await files(
      fkBase(""),
      'ALTER TABLE "Post" DROP CONSTRAINT "Post_authorId_fkey";',
      'ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id");',
    );
    expect(ids(later, "error")).toEqual(["foreign-key-on-existing-column"]);
  });
});
