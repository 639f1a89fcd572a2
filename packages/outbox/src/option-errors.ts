import { z } from "zod";
import { CutoverError } from "./errors.js";

/*
 * How an options schema is written and how its zod issues become one
 * CONFIG_INVALID error naming the option: shared by the consumer's and the
 * publisher's options (and, through settingSpec, the worker's variables).
 */

export const MAX_MS = 2_147_483_647;
export const int = (min: number, max: number) => z.number().int().min(min).max(max);
export const ms = (min: number) => int(min, MAX_MS);
/** A value the schema only checks is an object; its own validator (or none) does the rest. */
export const object = <T>(what: string) =>
  z.custom<T>((v) => typeof v === "object" && v !== null, { message: `must be ${what}` });

/** The leaf schema of a field, defaults and optionality removed. */
export function bare(schema: z.ZodType): z.ZodType {
  let s = schema;
  while (s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodOptional)
    s = s.unwrap() as z.ZodType;
  return s;
}

export function fieldAt(root: z.ZodObject, path: readonly PropertyKey[]): z.ZodType | undefined {
  let s: z.ZodType = root;
  for (const key of path) {
    const b = bare(s);
    if (!(b instanceof z.ZodObject)) return undefined;
    s = (b.shape as Record<string, z.ZodType>)[String(key)]!;
    if (s === undefined) return undefined;
  }
  return s;
}

/** How a value shows in a message: numbers as they are, the rest as JSON, cut at 40 characters. */
export function shownValue(value: unknown): string {
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 40 ? `${json.slice(0, 40)}...` : json;
}

/** "must be ...; got X" for an invalid value of `field` (the schema of one field). */
function requirement(field: z.ZodType, issue: z.core.$ZodIssue): string {
  const s = bare(field);
  if (s instanceof z.ZodNumber) return `must be an integer from ${s.minValue} to ${s.maxValue}`;
  if (s instanceof z.ZodBoolean) return "must be true or false";
  if (s instanceof z.ZodString) {
    if (s.minLength) return `must be a string of ${s.minLength} to ${s.maxLength} characters`;
    return s.maxLength === null
      ? "must be a string"
      : `must be a string of at most ${s.maxLength} characters`;
  }
  if (s instanceof z.ZodObject) return "must be an object";
  return issue.message;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const k of path) v = (v as Record<PropertyKey, unknown> | undefined)?.[k];
  return v;
}

/**
 * The CONFIG_INVALID error for the first of zod's issues, naming the option.
 * A misspelled option (`concurency: 8`) would otherwise be ignored without a
 * word and the default used: it comes first, naming the closest real one.
 */
export function optionError(
  label: string,
  root: z.ZodObject,
  input: unknown,
  issues: readonly z.core.$ZodIssue[],
): CutoverError {
  const unknown = issues.find((i) => i.code === "unrecognized_keys");
  if (unknown) {
    const prefix = unknown.path.map((p) => `${String(p)}.`).join("");
    const name = unknown.keys[0]!;
    const at = bare(fieldAt(root, unknown.path)!) as z.ZodObject;
    const near = closest(name, Object.keys(at.shape));
    return new CutoverError(
      "CONFIG_INVALID",
      `unknown ${label} ${prefix}${name}${near ? ` (did you mean ${prefix}${near}?)` : ""}`,
      { details: { option: `${prefix}${name}` } },
    );
  }
  const issue = issues[0]!;
  const option = issue.path.map(String).join(".");
  const field = fieldAt(root, issue.path);
  const value = valueAt(input, issue.path);
  return new CutoverError(
    "CONFIG_INVALID",
    `${label} ${option} ${field ? requirement(field, issue) : issue.message}; got ${shownValue(value)}`,
    { details: { option, issues } },
  );
}

/** The known name within edit distance 2 (or a case-insensitive match), if any. */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of known) {
    const d = k.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
