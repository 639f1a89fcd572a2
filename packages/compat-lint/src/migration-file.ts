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
  // Without an up marker the whole file runs, down marker or not (as in node-pg-migrate).
  const down = text.search(upPattern) < 0 ? -1 : text.search(downPattern);
  if (up < 0) return { start: 0, end: text.length };
  return { start: up, end: down < up ? text.length : down };
}

/** `-- compat: breaking (reason: ...)` */
export interface BreakingMarker {
  reason: string;
  /** UTF-16 index of the comment, and just past it. */
  index: number;
  end: number;
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

/**
 * Reads the directives of the file; `knownRule` validates rule ids. They are
 * read from the up section and from the comments above it (a marker or an
 * ignore-file at the top of the file, before `-- Up Migration`, is where
 * people put them). A directive in the down section would have no effect,
 * since only the up section is linted: it is reported, not silently dropped.
 */
export function readDirectives(
  text: string,
  section: Section,
  knownRule: (id: string) => boolean,
): Directives {
  const result: Directives = { marker: undefined, ignores: [], problems: [] };
  // Every directive contains "compat"; most files have none, and scanning the
  // comments character by character is the costly part.
  if (!/compat/i.test(text)) return result;
  // Without an up marker the whole file runs, down marker or not (as in node-pg-migrate).
  const down = text.search(upPattern) < 0 ? -1 : text.search(downPattern);
  // The text above the up marker (when it is not the down section), then the up section; each
  // scanned on its own, so a stray quote in a preamble the migrator never runs cannot hide the
  // up section's comments.
  const preambleEnd = down >= 0 && down < section.start ? down : section.start;
  const ranges: [number, number][] = [
    [0, preambleEnd],
    [section.start, section.end],
  ];
  for (const [from, to] of ranges) if (to > from) readRange(text, from, to, knownRule, result);
  // The down section: [down, up) when it comes first, else [down, end).
  if (down >= 0) {
    const downEnd = down < section.start ? section.start : text.length;
    const probe: Directives = { marker: undefined, ignores: [], problems: [] };
    readRange(text, down, downEnd, knownRule, probe);
    for (const d of [...(probe.marker ? [probe.marker] : []), ...probe.ignores, ...probe.problems]) {
      result.problems.push({
        message:
          "directive in the Down Migration section has no effect (only the Up section is linted); move it into the Up section or above `-- Up Migration`",
        index: d.index,
        end: d.end,
      });
    }
  }
  return result;
}

function readRange(
  text: string,
  from: number,
  to: number,
  knownRule: (id: string) => boolean,
  result: Directives,
): void {
  const body = text.slice(from, to);
  if (!/compat/i.test(body)) return;
  for (const c of lineComments(body)) {
    const index = from + c.index;
    const end = from + c.end;
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
        result.marker = { reason, index, end };
      } else {
        // One marker covers the whole file; a second one's reason would be silently dropped.
        result.problems.push({
          message:
            "second compat marker in this file; one `-- compat: breaking (reason: ...)` covers the whole file, so put every reason in the first",
          index,
          end,
        });
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
}
