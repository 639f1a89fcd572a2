import { lineComments } from "./comments.js";

/**
 * The part of a migration file that runs on `up`. node-pg-migrate looks for
 * `-- Up Migration` / `-- Down Migration` comment lines and runs everything
 * from the up marker to the down marker (or the end); a file with no up
 * marker runs whole. dbmate (`-- migrate:up` / `-- migrate:down`) and goose
 * (`-- +goose Up` / `-- +goose Down`) split their files the same way.
 * Mirrored here so the linter judges exactly the SQL the migrator executes.
 */
export interface Section {
  /** UTF-16 index where the up SQL starts. */
  start: number;
  /** UTF-16 index where it ends. */
  end: number;
}

const styles: ReadonlyArray<{ hint: string | undefined; up: RegExp; down: RegExp }> = [
  // node-pg-migrate. No cheap hint: its markers are spelled freely ("-- Up Migration", "--- up migration").
  { hint: undefined, up: /^\s*--[\s-]*up\s+migration/im, down: /^\s*--[\s-]*down\s+migration/im },
  { hint: "migrate:", up: /^\s*--\s*migrate:up\b/im, down: /^\s*--\s*migrate:down\b/im },
  { hint: "goose", up: /^\s*--\s*\+goose\s+up\b/im, down: /^\s*--\s*\+goose\s+down\b/im },
];

export function upSection(text: string): Section {
  const { start, end } = split(text);
  return { start, end };
}

/** The up section, and where the down marker of the same tool's style is (-1: none, or no up marker). */
function split(text: string): Section & { down: number } {
  for (const style of styles) {
    // The other tools' markers are looked for only when their word is in the file at all.
    if (style.hint !== undefined && !text.includes(style.hint)) continue;
    const up = text.search(style.up);
    if (up < 0) continue;
    const down = text.search(style.down);
    return { start: up, end: down < up ? text.length : down, down };
  }
  // Without an up marker the whole file runs, down marker or not (as in node-pg-migrate).
  return { start: 0, end: text.length, down: -1 };
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
  const down = split(text).down;
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
          "directive in the Down section has no effect (only the Up section is linted); move it into the Up section or above the up marker",
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
