import { readFileSync } from "node:fs";
import { formatSarif, lintSources, rules } from "@cutover/compat-lint";
import AjvModule from "ajv-draft-04";
import { describe, expect, it } from "vitest";

/**
 * compat-lint's SARIF validates against the SARIF 2.1.0 schema (test/sarif/README.md), with
 * every kind of result in it: errors, warnings, an allowed finding (a suppression), a syntax
 * error and a read error; and every rule carries its whole docs page as help.
 */
const schema = JSON.parse(readFileSync(new URL("./sarif/sarif-2.1.0-rtm.5.json", import.meta.url), "utf8"));
// ajv-draft-04 is CommonJS: its class is the module's default export.
const Ajv = AjvModule.default;
// unicodeRegExp off: the schema's language pattern is not valid as a /u regular expression.
const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
// The formats the schema uses: an absolute URI (helpUri, informationUri) must parse with a scheme.
ajv.addFormat("uri", (s: string) => /^[a-z][a-z0-9+.-]*:/i.test(s) && URL.canParse(s));
ajv.addFormat("uri-reference", (s: string) => !/\s/.test(s) && URL.canParse(s, "file:///"));
ajv.addFormat("date-time", (s: string) => !Number.isNaN(Date.parse(s)));
const validate = ajv.compile(schema);

describe("SARIF output", () => {
  it("is valid SARIF 2.1.0 with errors, warnings, allowed findings and file problems", async () => {
    const result = await lintSources([
      {
        path: "m/1_init.sql",
        content: "CREATE TABLE users (id int PRIMARY KEY, email text);",
        inChangeSet: false,
      },
      {
        path: "m/2_drop.sql",
        content: "ALTER TABLE users DROP COLUMN email;\nCREATE INDEX ON users (id);",
        inChangeSet: true,
      },
      {
        path: "m/3 odd#name.sql",
        content: "-- compat: breaking (reason: nothing reads it)\nDROP TABLE users;",
        inChangeSet: true,
      },
      { path: "m/4_bad.sql", content: "ALTER TABLE x ADD COLUMN y int NOT NUL;", inChangeSet: true },
      { path: "m/5_unread.sql", content: "", readError: "cannot read: permission denied", inChangeSet: true },
    ]);
    const severities = new Set(result.diagnostics.map((d) => d.severity));
    expect([...severities].sort()).toEqual(["allowed", "error", "warning"]);
    const doc = JSON.parse(formatSarif(result, "0.1.0"));
    const ok = validate(doc);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(ok).toBe(true);
  });

  it("gives every rule its whole docs page as help, and a helpUri into the published package's docs", async () => {
    const doc = JSON.parse(formatSarif(await lintSources([]), "1.2.3"));
    const entries = doc.runs[0].tool.driver.rules as {
      id: string;
      help: { text: string; markdown?: string };
      helpUri: string;
    }[];
    for (const rule of rules) {
      const e = entries.find((x) => x.id === rule.id)!;
      const page = readFileSync(
        new URL(`../../../docs/compat-lint/rules/${rule.id}.md`, import.meta.url),
        "utf8",
      );
      expect(e.help.markdown, rule.id).toBe(page);
      expect(e.help.text, rule.id).toContain(rule.hint);
      expect(e.helpUri).toBe(
        `https://cdn.jsdelivr.net/npm/@cutover/compat-lint@1.2.3/docs/compat-lint/rules/${rule.id}.md`,
      );
    }
  });
});
