import { addConstraintBuildsIndex } from "./add-constraint-builds-index.js";
import { addRequiredColumn } from "./add-required-column.js";
import { changeDefault } from "./change-default.js";
import { checkOnExistingColumn } from "./check-on-existing-column.js";
import { constraintWithoutNotValid } from "./constraint-without-not-valid.js";
import { createIndexNonConcurrently } from "./create-index-non-concurrently.js";
import { detachPartition } from "./detach-partition.js";
import { dropColumn } from "./drop-column.js";
import { dropDefault } from "./drop-default.js";
import { dropExtension } from "./drop-extension.js";
import { dropFunction } from "./drop-function.js";
import { dropNotNull } from "./drop-not-null.js";
import { dropSchema } from "./drop-schema.js";
import { dropTable } from "./drop-table.js";
import { dropType } from "./drop-type.js";
import { dropUniqueConstraint } from "./drop-unique-constraint.js";
import { dropView } from "./drop-view.js";
import { editedMigration } from "./edited-migration.js";
import { enableRowLevelSecurity } from "./enable-row-level-security.js";
import { foreignKeyOnExistingColumn } from "./foreign-key-on-existing-column.js";
import { foreignKeyToExistingTable } from "./foreign-key-to-existing-table.js";
import { identityAlwaysOnExistingColumn } from "./identity-always-on-existing-column.js";
import { incompatibleTypeChange } from "./incompatible-type-change.js";
import { invalidDirective } from "./invalid-directive.js";
import { renameColumn } from "./rename-column.js";
import { renameConstraint } from "./rename-constraint.js";
import { renameEnumValue } from "./rename-enum-value.js";
import { renameSchema } from "./rename-schema.js";
import { renameTable } from "./rename-table.js";
import { revokePrivilege } from "./revoke-privilege.js";
import type { Rule } from "./rule.js";
import { setNotNull } from "./set-not-null.js";
import { tableRewrite } from "./table-rewrite.js";
import { uniqueOnExistingColumn } from "./unique-on-existing-column.js";
import { unverifiableStatement } from "./unverifiable-statement.js";

/** Every rule, in the order diagnostics for one statement are reported. */
export const rules: readonly Rule[] = [
  dropColumn,
  dropTable,
  incompatibleTypeChange,
  addRequiredColumn,
  uniqueOnExistingColumn,
  dropUniqueConstraint,
  renameColumn,
  renameTable,
  renameConstraint,
  renameSchema,
  setNotNull,
  dropNotNull,
  dropDefault,
  changeDefault,
  identityAlwaysOnExistingColumn,
  checkOnExistingColumn,
  foreignKeyOnExistingColumn,
  foreignKeyToExistingTable,
  renameEnumValue,
  dropView,
  dropFunction,
  dropType,
  dropSchema,
  dropExtension,
  enableRowLevelSecurity,
  revokePrivilege,
  detachPartition,
  unverifiableStatement,
  createIndexNonConcurrently,
  constraintWithoutNotValid,
  addConstraintBuildsIndex,
  tableRewrite,
  invalidDirective,
  editedMigration,
];

export const ruleById: ReadonlyMap<string, Rule> = new Map(rules.map((r) => [r.id, r]));
