import type { Node } from "libpg-query";
import type { SqlType } from "./sql-type.js";

/**
 * The schema as the replayed migrations left it: what each statement is
 * judged against. Every object remembers whether it was created inside the
 * change set under review; those are exempt from the contract rules, because
 * no previous-generation code can be using them yet. An object the model does
 * not know (its migration is outside the linted files) is treated as
 * pre-existing: unknown means "old code may use it".
 */
export interface Origin {
  /** Display path of the file that created the object. */
  file: string;
  /** Created by a file in the change set under review. */
  inChangeSet: boolean;
}

export interface ColumnModel {
  name: string;
  /** For a view's column whose type the model cannot derive, UNKNOWN_TYPE (name ""). */
  type: SqlType;
  notNull: boolean;
  /** A canonical fingerprint of the default expression, or undefined for none. */
  defaultKey: string | undefined;
  /**
   * The column has a DEFAULT NULL of its own (DEFAULT NULL, SET DEFAULT NULL):
   * no default for defaultKey, but it overrides a domain's DEFAULT (PG stores
   * it for a column of a domain type; DROP DEFAULT brings the domain's back).
   */
  nullDefault: boolean;
  /** GENERATED ALWAYS AS (...) STORED, or an identity column: the database fills it. */
  generated: boolean;
  /** An identity column GENERATED ALWAYS: an INSERT or UPDATE of an explicit value fails. */
  identityAlways: boolean;
  /** An identity column (generated is true too); false for a stored generated column. */
  identity: boolean;
  /**
   * The sequence a serial or identity column created (PG drops it with the
   * column or table); undefined for none, or one the model does not know.
   */
  sequence?: RelationModel;
  /**
   * Set by RENAME COLUMN in the change set (with the name old code knows it by): under its new
   * name no old code uses it, so only the rename is judged (rules see it as not existing).
   */
  renamed?: { by: Origin; from: string };
  origin: Origin;
}

export type ConstraintKind = "primary" | "unique" | "check" | "foreign" | "exclusion";

export interface ConstraintModel {
  name: string;
  kind: ConstraintKind;
  columns: string[];
  /** For a FOREIGN KEY: what it references and does (undefined for other kinds). */
  foreignKey?: ForeignKeyModel;
  /** For a validated CHECK: its expression (what every stored row and every old write satisfied). */
  check?: Node;
  origin: Origin;
}

/**
 * A FOREIGN KEY's definition, as far as it decides what old code's writes
 * meet: the referenced relation and columns, the referential actions, MATCH
 * and deferrability.
 */
export interface ForeignKeyModel {
  /** The referenced relation as the model knew it when the key was added (undefined: never seen). */
  references: RelationModel | undefined;
  /** key(schema, name) of the referenced relation, as resolved when the key was added. */
  referencesKey: string;
  /** The referenced columns in key order; a REFERENCES without a column list gets the primary key's (empty: unknown). */
  refColumns: string[];
  /** pg_constraint.confdeltype / confupdtype: a NO ACTION, r RESTRICT, c CASCADE, n SET NULL, d SET DEFAULT. */
  onDelete: string;
  onUpdate: string;
  /** ON DELETE SET NULL / SET DEFAULT (cols) (PG 15), sorted; empty: every column of the key. */
  onDeleteColumns: string[];
  /** MATCH: s SIMPLE (default), f FULL. */
  match: string;
  deferrable: boolean;
  initiallyDeferred: boolean;
}

export type RelationKind = "table" | "view" | "matview" | "sequence";

export interface RelationModel {
  schema: string;
  name: string;
  kind: RelationKind;
  columns: Map<string, ColumnModel>;
  constraints: Map<string, ConstraintModel>;
  /**
   * Whether `columns` is the relation's whole column list. A table created by
   * the linted files is known (unless it copies columns from one the model
   * never saw); a view is known when its column names could be derived from
   * its query; a relation the model never saw is not.
   */
  columnsKnown: boolean;
  /** For a view or materialized view: the relations its query reads (DROP ... CASCADE drops it with them). Set with setDependsOn. */
  dependsOn: RelationModel[];
  /** The reverse of dependsOn: relations whose dependsOn includes this one (kept by setDependsOn). */
  dependents: Set<RelationModel>;
  /**
   * The indexes created on this relation (a superset: one dropped or refiled
   * since is checked against SchemaModel.indexes on use). DROP TABLE and
   * renames visit these instead of every index.
   */
  indexes: Set<IndexModel>;
  /**
   * FOREIGN KEY, PRIMARY KEY and UNIQUE constraints a file of the change set
   * dropped (with that file's origin, which stops being in the change set
   * when its file is done): a key redefined (dropped, re-added with other
   * actions, or under another name) is judged against it.
   */
  droppedConstraints?: { constraint: ConstraintModel; by: Origin }[];
  /**
   * Columns old code knew that a file of the change set dropped or renamed away (as they were,
   * with that file's origin): a column of the same name added back in the change set is one old
   * code already writes (see replacedColumn).
   */
  droppedColumns?: { column: ColumnModel; by: Origin }[];
  /** Unique indexes a file of the change set dropped (like droppedConstraints). */
  droppedIndexes?: { index: IndexModel; by: Origin }[];
  /** Position in SchemaModel.relations (insertion order, as a Map keeps it). */
  seq: number;
  /** Row-level security policies by name. */
  policies: Map<string, PolicyModel>;
  /**
   * ENABLE ROW LEVEL SECURITY: the origin of the file that enabled it
   * (undefined: disabled, or the model does not know). A policy change on a
   * table whose RLS is old decides what old code sees.
   */
  rowSecurity: Origin | undefined;
  /**
   * Set by RENAME TO / SET SCHEMA: the origin of the file that gave the
   * relation its current name. While that origin is in the change set, no old
   * code knows the relation by this name (renaming it again, e.g. back, is
   * not a rename old code sees; the first rename judges the old name).
   */
  namedBy?: Origin;
  origin: Origin;
}

/** "true": the expression is the constant true; "none": not given; "other": anything else. */
export type PolicyClause = "true" | "none" | "other";

/** A row-level security policy, as far as it decides whether old code keeps seeing and writing every row. */
export interface PolicyModel {
  name: string;
  /** AS PERMISSIVE (the default) or AS RESTRICTIVE. */
  permissive: boolean;
  /** FOR ALL (the default). */
  allCommands: boolean;
  /** TO PUBLIC (the default). */
  toPublic: boolean;
  /** USING. */
  using: PolicyClause;
  /** WITH CHECK ("none": USING is the check). */
  check: PolicyClause;
}

export interface IndexModel {
  schema: string;
  name: string;
  /** Key of the indexed relation. */
  relation: string;
  unique: boolean;
  columns: string[];
  /**
   * What the index keys on, for telling two indexes apart (indexShape):
   * its key columns and expressions, WHERE clause and NULLS NOT DISTINCT.
   * Two unique indexes of one shape reject the same rows; an ON CONFLICT
   * (cols) that one serves, the other serves too.
   */
  shape: string;
  origin: Origin;
}

export type TypeKind = "enum" | "domain" | "composite" | "range";

export interface TypeModel {
  schema: string;
  name: string;
  kind: TypeKind;
  values: string[];
  /**
   * Enum values the linted files added, with the origin of the file that added
   * each: a value is new only while that origin is in the change set (with
   * per-file change sets, a value added by an earlier file is old).
   */
  newValues: Map<string, Origin>;
  /** A domain declared NOT NULL (directly or through its base domain): a column of it cannot be left NULL. */
  notNull: boolean;
  /** A domain with a DEFAULT: a column of it without its own default is filled with that. */
  hasDefault: boolean;
  /**
   * Set by a RENAME TO or SET SCHEMA in the linted files: the name the type
   * had before the first of them in that file's change set, and that file's
   * origin. While `by` is in the change set, the current name is new: old
   * code never named the type so (see knownName).
   */
  renamedFrom?: { schema: string; name: string; by: Origin };
  origin: Origin;
}

export type Volatility = "immutable" | "stable" | "volatile";

export interface FunctionModel {
  schema: string;
  name: string;
  /** As declared (VOLATILE when not said). */
  volatility: Volatility;
  /** "sql", "plpgsql", ... */
  language: string;
  /**
   * RETURNS trigger (or event_trigger): only a trigger can call it, and a trigger names it by
   * OID, so renaming it breaks no caller, and Postgres drops it only once no trigger uses it.
   */
  trigger?: boolean;
  origin: Origin;
}

/** A trigger: which relation it is on and which function (key(schema, name)) it executes. */
export interface TriggerModel {
  name: string;
  relation: string;
  func: string;
  origin: Origin;
}

/** The type of a view column the model cannot derive (an expression). */
export const UNKNOWN_TYPE: SqlType = { name: "", mods: [], arrayDims: 0 };

export const key = (schema: string, name: string): string => `${schema}.${name}`;

/** A Map of relations that stamps each one with its position in the Map's order (RelationModel.seq). */
class RelationMap extends Map<string, RelationModel> {
  private next = 0;

  override set(k: string, v: RelationModel): this {
    // Setting an existing key keeps its place in the order.
    const old = this.get(k);
    v.seq = old !== undefined ? old.seq : this.next++;
    return super.set(k, v);
  }
}

export class SchemaModel {
  searchPath: string[];
  readonly schemas = new Map<string, Origin>();
  readonly relations: Map<string, RelationModel> = new RelationMap();
  /**
   * key(schema, name) of a PRIMARY KEY / UNIQUE / EXCLUDE constraint (and so
   * of its index) -> the relations that have (or had) one of that name in that
   * schema: a superset, checked on use (indexConstraint), so ALTER INDEX
   * RENAME and DROP INDEX need not visit every relation.
   */
  readonly constraintOwners = new Map<string, Set<RelationModel>>();
  readonly indexes = new Map<string, IndexModel>();
  readonly types = new Map<string, TypeModel>();
  readonly functions = new Map<string, FunctionModel>();
  /** Triggers by key(relation key, trigger name). */
  readonly triggers = new Map<string, TriggerModel>();
  /** Triggers a file of the change set dropped, with that file's origin (like droppedConstraints). */
  droppedTriggers: { trigger: TriggerModel; by: Origin }[] = [];
  /** Extensions the linted files created, by name. */
  readonly extensions = new Map<string, Origin>();

  constructor(searchPath: string[]) {
    this.searchPath = [...searchPath];
  }

  /** The schema new unqualified objects are created in. */
  get creationSchema(): string {
    return this.searchPath[0] ?? "public";
  }

  private lookup<T>(map: Map<string, T>, schema: string | undefined, name: string): T | undefined {
    if (schema) return map.get(key(schema, name));
    // Indexed: without TurboFan (the CLI's --no-opt) a for...of step allocates an iterator result.
    const path = this.searchPath;
    for (let i = 0; i < path.length; i++) {
      const hit = map.get(key(path[i]!, name));
      if (hit) return hit;
    }
    return undefined;
  }

  relation(schema: string | undefined, name: string): RelationModel | undefined {
    return this.lookup(this.relations, schema, name);
  }

  index(schema: string | undefined, name: string): IndexModel | undefined {
    return this.lookup(this.indexes, schema, name);
  }

  type(schema: string | undefined, name: string): TypeModel | undefined {
    return this.lookup(this.types, schema, name);
  }

  func(schema: string | undefined, name: string): FunctionModel | undefined {
    return this.lookup(this.functions, schema, name);
  }

  /** The schema an unqualified reference resolves to, or where it would be created. */
  resolveSchema<T>(
    map: "relations" | "types" | "functions" | "indexes",
    schema: string | undefined,
    name: string,
  ): string {
    if (schema) return schema;
    const m = this[map] as Map<string, T>;
    for (const s of this.searchPath) if (m.has(key(s, name))) return s;
    return this.creationSchema;
  }
}
