import { lintSources } from "@cutover/compat-lint";
import { describe, expect, it } from "vitest";
import { ids } from "./helpers.js";

/** Each string a file; the first is history (not linted), the others each their own change set. */
const files = (...sqls: string[]) =>
  lintSources(sqls.map((content, i) => ({ path: `${i + 1}.sql`, content, inChangeSet: i > 0 })));

/** drizzle-kit (before 0.31) wraps every CREATE TYPE and ADD CONSTRAINT like this. */
const drizzleDo = (ddl: string) =>
  `DO $$ BEGIN\n ${ddl};\nEXCEPTION\n WHEN duplicate_object THEN null;\nEND $$;\n`;

const users =
  'CREATE TABLE IF NOT EXISTS "users" ("id" serial PRIMARY KEY NOT NULL, "email" text NOT NULL);\n' +
  'CREATE TABLE IF NOT EXISTS "posts" ("id" serial PRIMARY KEY NOT NULL, "author_id" integer NOT NULL);';

describe("drizzle-kit's DO $$ BEGIN <ddl>; EXCEPTION WHEN duplicate_object THEN null; END $$", () => {
  it("is linted as the statement inside: a new table's FK and a new enum are clean", async () => {
    const r = await files(
      "",
      drizzleDo(`CREATE TYPE "public"."role" AS ENUM('admin', 'member')`) +
        '--> statement-breakpoint\nCREATE TABLE IF NOT EXISTS "members" ("id" serial PRIMARY KEY NOT NULL, "user_id" integer NOT NULL, "role" "role" NOT NULL);\n--> statement-breakpoint\n' +
        drizzleDo(
          `ALTER TABLE "members" ADD CONSTRAINT "members_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."members"("id") ON DELETE cascade ON UPDATE no action`,
        ),
    );
    expect(ids(r)).toEqual([]);
  });

  it("reports what the statement inside breaks, under that statement's rule and position", async () => {
    const r = await files(
      users,
      `--> statement-breakpoint\n${drizzleDo(
        `ALTER TABLE "posts" ADD CONSTRAINT "posts_author_id_users_id_fk" FOREIGN KEY ("author_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action`,
      )}`,
    );
    expect(ids(r, "error")).toEqual(["foreign-key-on-existing-column"]);
    // Where the same statement, unwrapped, is reported: line 3 inside the block, at CONSTRAINT.
    const d = r.diagnostics.find((x) => x.ruleId === "foreign-key-on-existing-column")!;
    const plain = await files(
      users,
      '--> statement-breakpoint\n\n ALTER TABLE "posts" ADD CONSTRAINT "posts_author_id_users_id_fk" FOREIGN KEY ("author_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;',
    );
    const p = plain.diagnostics.find((x) => x.ruleId === "foreign-key-on-existing-column")!;
    expect([d.start.line, d.start.column, d.end.line, d.end.column]).toEqual([
      3,
      26,
      p.end.line,
      p.end.column,
    ]);
    expect([p.start.line, p.start.column]).toEqual([3, 26]);
  });

  it("replays the statement inside, so later statements see the enum and the constraint", async () => {
    const r = await files(
      "",
      drizzleDo(`CREATE TYPE "public"."role" AS ENUM('admin', 'member')`),
      "ALTER TYPE \"public\".\"role\" RENAME VALUE 'member' TO 'user';",
    );
    expect(ids(r, "error")).toEqual(["rename-enum-value"]);
  });

  it("stays unverifiable when the block does anything else", async () => {
    for (const body of [
      // Two statements, another condition, a condition that swallows every error, logic.
      `DO $$ BEGIN\n ALTER TABLE "posts" ADD COLUMN "a" text;\n ALTER TABLE "posts" ADD COLUMN "b" text;\nEXCEPTION\n WHEN duplicate_object THEN null;\nEND $$;`,
      `DO $$ BEGIN\n ALTER TABLE "posts" DROP COLUMN "author_id";\nEXCEPTION\n WHEN undefined_column THEN null;\nEND $$;`,
      `DO $$ BEGIN\n ALTER TABLE "posts" DROP COLUMN "author_id";\nEXCEPTION\n WHEN others THEN null;\nEND $$;`,
      `DO $$ BEGIN\n IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'role') THEN CREATE TYPE role AS ENUM ('a'); END IF;\nEND $$;`,
      `DO $$ BEGIN\n PERFORM 1;\nEXCEPTION\n WHEN duplicate_object THEN null;\nEND $$;`,
      `DO LANGUAGE plperl $$ BEGIN\n ALTER TABLE "posts" ADD COLUMN "a" text;\nEXCEPTION\n WHEN duplicate_object THEN null;\nEND $$;`,
    ]) {
      const r = await files(users, body);
      expect(ids(r, "error"), body).toEqual(["unverifiable-statement"]);
    }
  });

  it("names EXECUTE inside the block as PL/pgSQL dynamic SQL, not a prepared statement", async () => {
    const r = await files(users, drizzleDo(`EXECUTE format('ALTER TABLE %I DROP COLUMN email', 'users')`));
    expect(r.diagnostics.map((d) => d.message)).toEqual([
      "a DO block running dynamic SQL (PL/pgSQL EXECUTE) cannot be checked: compat-lint cannot see which schema changes it makes",
    ]);
    // A top-level EXECUTE is the SQL command: a prepared statement.
    const prepared = await files(users, "EXECUTE add_column(1);");
    expect(prepared.diagnostics.map((d) => d.message)).toEqual([
      "EXECUTE of a prepared statement cannot be checked: compat-lint cannot see which schema changes it makes",
    ]);
  });

  it("is a no-op when the object already exists (the handler swallows the error): the old schema stays", async () => {
    // Postgres runs none of these: each raises duplicate_* and the handler ignores it. The
    // existing table, enum, column and constraint are what later statements act on.
    const r = await files(
      `${users}\nCREATE TYPE "role" AS ENUM ('admin', 'member', 'guest');\n` +
        'ALTER TABLE "posts" ADD CONSTRAINT "posts_author_fk" FOREIGN KEY ("author_id") REFERENCES "users"("id") ON DELETE CASCADE;',
      `DO $$ BEGIN\n CREATE TABLE "users" ("id" serial PRIMARY KEY NOT NULL);\nEXCEPTION\n WHEN duplicate_table THEN null;\nEND $$;\n` +
        drizzleDo(`CREATE TYPE "role" AS ENUM('admin')`) +
        drizzleDo(
          'ALTER TABLE "posts" ADD CONSTRAINT "posts_author_fk" FOREIGN KEY ("author_id") REFERENCES "users"("id")',
        ) +
        `DO $$ BEGIN\n ALTER TABLE "posts" ADD COLUMN "author_id" text;\nEXCEPTION\n WHEN duplicate_column THEN null;\nEND $$;\n` +
        'ALTER TABLE "users" DROP COLUMN "email";\n' +
        "ALTER TYPE \"role\" RENAME VALUE 'guest' TO 'visitor';\n" +
        'ALTER TABLE "posts" DROP CONSTRAINT "posts_author_fk";\n' +
        'ALTER TABLE "posts" ALTER COLUMN "author_id" TYPE smallint;\n',
    );
    expect(ids(r, "error")).toEqual(["drop-column", "rename-enum-value", "incompatible-type-change"]);
  });

  it("hides nothing: a DROP COLUMN wrapped in the idiom is still drop-column", async () => {
    const r = await files(users, drizzleDo('ALTER TABLE "posts" DROP COLUMN "author_id"'));
    expect(ids(r, "error")).toEqual(["drop-column"]);
  });
});

describe("Rails change_column to a limited string", () => {
  it("names an unbounded character varying as such (not varchar(undefined))", async () => {
    const r = await files(
      'CREATE TABLE "users" ("id" bigserial primary key, "email" character varying DEFAULT \'\' NOT NULL);',
      'ALTER TABLE "users" ALTER COLUMN "email" TYPE character varying(100);',
    );
    const d = r.diagnostics.find((x) => x.ruleId === "incompatible-type-change")!;
    expect(d.message).toContain("narrows unbounded varchar to varchar(100)");
  });
});
