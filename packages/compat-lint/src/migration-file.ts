import { lineComments } from "./comments.js";

/**
 * The part of a node-pg-migrate SQL file that runs on `up`. node-pg-migrate
 * looks for `-- Up Migration` / `-- Down Migration` comment lines and runs
 * everything from the up marker to the down marker (or the end); a file with
 * no up marker runs whole. Mirrored here so the linter judges exactly the SQL
 * the migrator will execute.
 */
export interface Section {
  /** UTF-16 index where the up SQL starts. */
  start: number;
  /** UTF-16 index where it ends. */
  end: number;
}

const upPattern = /^\s*--[\s-]*up\s+migration/im;
const downPattern = /^\s*--[\s-]*down\s+migration/im;

export function upSection(text: string): Section {
  const up = text.search(upPattern);
  const down = text.search(downPattern);
  if (up < 0) return { start: 0, end: text.length };
  return { start: up, end: down < up ? text.length : down };
}

/** `-- compat: breaking (reason: ...)` */
export interface BreakingMarker {
  reason: string;
  index: number;
}

/** `-- compat-lint ignore rule-a, rule-b` (next statement) or `ignore-file`. */
export interface IgnoreDirective {
  scope: "statement" | "file";
  ruleIds: string[];
  /** UTF-16 index of the comment, and just past it. */
  index: number;
  end: number;
}

/** A directive comment that is malformed: reported, never silently ignored. */
export interface DirectiveProblem {
  message: string;
  index: number;
  end: number;
}

export interface Directives {
  marker: BreakingMarker | undefined;
  ignores: IgnoreDirective[];
  problems: DirectiveProblem[];
}

const markerHead = /^\s*compat\s*:/i;
const markerFull = /^\s*compat\s*:\s*breaking\s*\(\s*reason\s*:(.*)\)\s*$/i;
const ignoreHead = /^\s*compat-lint\b/i;
const ignoreFull = /^\s*compat-lint\s+(ignore-file|ignore)\s*:?(.*)$/i;

/** Reads the directives of the up section; `knownRule` validates rule ids. */
export function readDirectives(
  text: string,
  section: Section,
  knownRule: (id: string) => boolean,
): Directives {
  const result: Directives = { marker: undefined, ignores: [], problems: [] };
  const body = text.slice(section.start, section.end);
  // Every directive contains "compat"; most files have none, and scanning the
  // comments character by character is the costly part.
  if (!/compat/i.test(body)) return result;
  for (const c of lineComments(body)) {
    const index = section.start + c.index;
    const end = section.start + c.end;
    if (markerHead.test(c.body)) {
      const m = markerFull.exec(c.body);
      const reason = m?.[1]?.trim() ?? "";
      if (!m) {
        result.problems.push({
          message: "malformed compat marker; write `-- compat: breaking (reason: <why this is safe>)`",
          index,
          end,
        });
      } else if (reason === "") {
        result.problems.push({
          message: "compat marker without a reason; say why breaking the previous generation is safe here",
          index,
          end,
        });
      } else if (result.marker === undefined) {
        result.marker = { reason, index };
      }
    } else if (ignoreHead.test(c.body)) {
      const m = ignoreFull.exec(c.body);
      if (!m) {
        result.problems.push({
          message: "malformed compat-lint directive; write `-- compat-lint ignore <rule-id>[, <rule-id>]`",
          index,
          end,
        });
        continue;
      }
      const ids = (m[2] ?? "").split(/[\s,]+/).filter((s) => s !== "");
      if (ids.length === 0) {
        result.problems.push({ message: "compat-lint ignore directive names no rule id", index, end });
        continue;
      }
      const unknown = ids.filter((id) => !knownRule(id));
      if (unknown.length > 0) {
        result.problems.push({
          message: `unknown rule id${unknown.length > 1 ? "s" : ""} in ignore directive: ${unknown.join(", ")}`,
          index,
          end,
        });
        continue;
      }
      result.ignores.push({
        scope: m[1]!.toLowerCase() === "ignore-file" ? "file" : "statement",
        ruleIds: ids,
        index,
        end,
      });
    }
  }
  return result;
}
