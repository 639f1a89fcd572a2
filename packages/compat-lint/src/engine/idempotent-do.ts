import type {
  AlterTableCmd,
  AlterTableStmt,
  ColumnDef,
  CompositeTypeStmt,
  Constraint,
  CreateDomainStmt,
  CreateEnumStmt,
  CreatePolicyStmt,
  CreateSchemaStmt,
  CreateSeqStmt,
  CreateStmt,
  CreateTableAsStmt,
  IndexStmt,
  Node,
  ViewStmt,
} from "libpg-query";
import { doBlock, fromRangeVar, nodeOf, type QualifiedName, qualified, strings } from "../parse/ast.js";
import { parseUtf8Safe } from "../parse/backend.js";
import type { Statement } from "../parse/parser.js";
import type { SourceText } from "../parse/source.js";
import type { SchemaModel } from "../schema/model.js";

/**
 * drizzle-kit (before 0.31) wraps every CREATE TYPE and ADD CONSTRAINT of a
 * migration in
 *
 *   DO $$ BEGIN
 *    ALTER TABLE "posts" ADD CONSTRAINT ... FOREIGN KEY ...;
 *   EXCEPTION
 *    WHEN duplicate_object THEN null;
 *   END $$;
 *
 * so that re-running it is a no-op. The block's only effect is that one
 * statement's (or nothing, when the object already exists), so it is linted
 * and replayed as that statement instead of being an opaque DO block, which
 * would fail every Drizzle migration. Only this exact shape is unwrapped:
 * PL/pgSQL, one SQL statement, and a handler that ignores nothing but the
 * "already exists" conditions. Anything else stays a DO block (and
 * unverifiable-statement).
 */
const idiom =
  /^\s*BEGIN\s+([\s\S]*?;)\s*EXCEPTION\s+WHEN\s+(?:duplicate_object|duplicate_table|duplicate_column)(?:\s+OR\s+(?:duplicate_object|duplicate_table|duplicate_column))*\s+THEN\s+NULL\s*;\s*END\s*;?\s*$/i;

/**
 * Statement kinds that PL/pgSQL does not run as plain SQL, or that a DO block cannot contain.
 * EXECUTE in PL/pgSQL runs a string as dynamic SQL; the SQL parser reads it as EXECUTE of a
 * prepared statement, which it is not (the block stays a DO block).
 */
const notPlain = new Set(["SelectStmt", "TransactionStmt", "VariableSetStmt", "ExecuteStmt"]);

/**
 * The statement inside an idempotent DO block, with byte ranges and AST
 * locations in the same frame as the DO statement's (section-relative
 * locations, absolute start/end); undefined when `stmt` is not the idiom.
 * `sectionBase` is the byte offset the section's AST locations count from.
 */
export function unwrapIdempotentDo(
  stmt: Statement,
  source: SourceText,
  sectionBase: number,
): Statement | undefined {
  if (stmt.kind !== "DoStmt") return undefined;
  const { code: body, language } = doBlock(stmt.body);
  if (body === undefined || language !== "plpgsql") return undefined;
  const m = idiom.exec(body);
  if (!m) return undefined;
  // Locate the body in the file: the dollar-quoted string after DO (a '...' body may hold
  // doubled quotes, so its text would not map one-to-one; not unwrapped).
  const text = source.slice(stmt.start, stmt.end);
  const open = /^DO\s+(?:LANGUAGE\s+\S+\s+)?(\$[A-Za-z_0-9]*\$)/i.exec(text);
  if (!open) return undefined;
  const bodyIndex = open[0].length;
  if (text.slice(bodyIndex, bodyIndex + body.length) !== body) return undefined;
  const innerIndex = bodyIndex + body.indexOf(m[1]!);
  const innerStart = stmt.start + Buffer.byteLength(text.slice(0, innerIndex));
  const inner = Buffer.from(m[1]!, "utf8");
  // Parse the inner statement padded with spaces to its place in the section, so every
  // location in its AST is section-relative, like the top-level statements'.
  const rel = innerStart - sectionBase;
  const padded = Buffer.alloc(rel + inner.length, 0x20);
  inner.copy(padded, rel);
  const raw = parseUtf8Safe(padded);
  if (!raw.ok) return undefined;
  let parsed: { stmts?: { stmt?: Record<string, Record<string, unknown>>; stmt_location?: number }[] };
  try {
    parsed = JSON.parse(raw.json);
  } catch {
    return undefined;
  }
  const stmts = parsed.stmts ?? [];
  if (stmts.length !== 1 || !stmts[0]!.stmt) return undefined;
  const node = stmts[0]!.stmt;
  const kind = Object.keys(node)[0]!;
  if (notPlain.has(kind)) return undefined;
  return {
    kind,
    body: node[kind]!,
    node: node as unknown as Statement["node"],
    start: innerStart,
    // Up to the statement's `;`, which the idiom requires.
    end: innerStart + inner.length - 1,
  };
}

/**
 * Whether the unwrapped statement would fail with "already exists" on the
 * schema the model holds, so that the block's handler swallows the error and
 * the block does nothing: the existing table, type, column or constraint stays
 * as it was (a drizzle migration re-run, or a block creating what an earlier
 * migration already made). Linting or replaying the statement then would
 * replace the old object in the model with the new definition and hide what
 * later statements do to the old one.
 */
export function alreadyExists(model: SchemaModel, stmt: Statement): boolean {
  const b = stmt.body;
  // A new object's name: in its schema, or the first of the search path (where CREATE puts it).
  const taken = (q: QualifiedName) => {
    const schema = q.schema ?? model.creationSchema;
    // Tables, views and sequences share the type namespace (each has a row type).
    return model.relation(schema, q.name) !== undefined || model.type(schema, q.name) !== undefined;
  };
  switch (stmt.kind) {
    case "CreateStmt":
      return taken(fromRangeVar((b as CreateStmt).relation));
    case "CreateTableAsStmt":
      return taken(fromRangeVar((b as CreateTableAsStmt).into?.rel));
    case "CreateSeqStmt":
      return taken(fromRangeVar((b as CreateSeqStmt).sequence));
    case "ViewStmt":
      return (b as ViewStmt).replace !== true && taken(fromRangeVar((b as ViewStmt).view));
    case "CreateEnumStmt":
      return taken(qualified(strings((b as CreateEnumStmt).typeName)));
    case "CreateDomainStmt":
      return taken(qualified(strings((b as CreateDomainStmt).domainname)));
    case "CreateRangeStmt":
      return taken(qualified(strings((b as { typeName?: Node[] }).typeName)));
    case "CompositeTypeStmt":
      return taken(fromRangeVar((b as CompositeTypeStmt).typevar));
    case "CreateSchemaStmt": {
      const name = (b as CreateSchemaStmt).schemaname;
      return name !== undefined && model.schemas.has(name);
    }
    case "IndexStmt": {
      const i = b as IndexStmt;
      if (!i.idxname) return false;
      const t = fromRangeVar(i.relation);
      const rel = model.relation(t.schema, t.name);
      const schema = rel?.schema ?? t.schema ?? model.creationSchema;
      return model.index(schema, i.idxname) !== undefined || model.relation(schema, i.idxname) !== undefined;
    }
    case "CreatePolicyStmt": {
      const p = b as CreatePolicyStmt;
      const t = fromRangeVar(p.table);
      return (
        p.policy_name !== undefined && model.relation(t.schema, t.name)?.policies.has(p.policy_name) === true
      );
    }
    case "AlterTableStmt": {
      const a = b as AlterTableStmt;
      const cmds = a.cmds ?? [];
      if (cmds.length !== 1) return false;
      const cmd = nodeOf<AlterTableCmd>(cmds[0], "AlterTableCmd");
      const t = fromRangeVar(a.relation);
      const rel = model.relation(t.schema, t.name);
      if (!cmd || !rel) return false;
      if (cmd.subtype === "AT_AddColumn") {
        const col = nodeOf<ColumnDef>(cmd.def, "ColumnDef")?.colname;
        return col !== undefined && rel.columns.has(col);
      }
      if (cmd.subtype === "AT_AddConstraint") {
        const c = nodeOf<Constraint>(cmd.def, "Constraint");
        const name = c?.conname;
        if (!name) return false;
        // A PRIMARY KEY / UNIQUE / EXCLUDE constraint's index takes the name in the schema too.
        const indexed =
          c.contype === "CONSTR_PRIMARY" || c.contype === "CONSTR_UNIQUE" || c.contype === "CONSTR_EXCLUSION";
        return (
          rel.constraints.has(name) ||
          (indexed &&
            (model.index(rel.schema, name) !== undefined || model.relation(rel.schema, name) !== undefined))
        );
      }
      return false;
    }
    default:
      return false;
  }
}
