/**
 * An APPROXIMATE rendering of charts/outbox-worker for one generation, for
 * comparing the chart with the Kustomize base where Helm cannot run. It is not
 * Helm: it understands only the constructs this chart uses —
 *   - control lines ({{- if/with/range/else/end }}, {{- $x := ... }}) are
 *     dropped, so both branches of an `if` are kept and a `range` body once;
 *   - {{- toYaml <values path> | nindent N }} and {{- include "<define>" $ | nindent N }}
 *     lines are expanded from values.yaml and _helpers.tpl;
 *   - inline {{ <values path> [| quote] }}, {{ required "..." <values path> }},
 *     {{ add (div <values path> A) B }}, and $gen / $version / $g.* of the
 *     generation being rendered;
 * and anything else renders as "x". What this cannot check is listed in
 * test/deploy/helm-chart.test.ts and docs/kubernetes.md.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, parseAllDocuments, stringify } from "yaml";
import type { K8sObject } from "./kustomize.js";

type Values = Record<string, unknown>;

const CONTROL = /^\s*\{\{-?\s*(if|else|end|with|range|\$[\w]+\s*:=|\/\*).*\}\}\s*$/;

function lookup(values: Values, path: string, gen: Values): unknown {
  const p = path.trim();
  if (p === "$gen") return gen.generation;
  if (p === "$version") return gen.version;
  if (p.startsWith("$g.")) return gen[p.slice(3)];
  const m = /^\$?\.Values\.(.+)$/.exec(p);
  if (!m) return undefined;
  let node: unknown = values;
  for (const k of m[1]!.split(".")) node = (node as Values | undefined)?.[k];
  return node;
}

function inline(expr: string, values: Values, gen: Values, fullname: string): string {
  const e = expr.replace(/^-\s*|\s*-$/g, "").trim();
  if (/^include "outbox-worker\.fullname"/.test(e)) return fullname;
  if (/^include "outbox-worker\.name"/.test(e)) return "outbox-worker";
  const [head, ...pipes] = e.split("|").map((s) => s.trim());
  let v: unknown;
  const required = /^required\s+"[^"]*"\s+(\S+)$/.exec(head!);
  const addDiv = /^add \(div (\S+) (\d+)\) (\d+)$/.exec(head!);
  if (required) v = lookup(values, required[1]!, gen);
  else if (addDiv)
    v = Math.floor(Number(lookup(values, addDiv[1]!, gen)) / Number(addDiv[2])) + Number(addDiv[3]);
  else v = lookup(values, head!, gen);
  if (v === undefined || v === null) return "x";
  return pipes.includes("quote") ? JSON.stringify(String(v)) : String(v);
}

function expand(
  text: string,
  values: Values,
  gen: Values,
  defines: Map<string, string>,
  fullname: string,
): string {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    if (CONTROL.test(line)) continue;
    const only = /^\s*\{\{-?\s*(.*?)\s*-?\}\}\s*$/.exec(line);
    if (only) {
      const indent = Number(/\bnindent\s+(\d+)/.exec(only[1]!)?.[1] ?? 0);
      const toYaml = /^toYaml\s+(\S+)/.exec(only[1]!);
      const include = /^include\s+"([^"]+)"/.exec(only[1]!);
      let body: string | undefined;
      if (toYaml) {
        const v = lookup(values, toYaml[1]!, gen);
        if (v !== undefined && v !== null) body = stringify(v).trimEnd();
      } else if (include && defines.has(include[1]!)) {
        body = expand(defines.get(include[1]!)!, values, gen, defines, fullname);
      }
      if (body) out.push(...body.split("\n").map((l) => " ".repeat(indent) + l));
      continue;
    }
    out.push(line.replace(/\{\{(.*?)\}\}/g, (_m, e: string) => inline(e, values, gen, fullname)));
  }
  return out.join("\n");
}

/** The chart's objects for generation `gen`, with `overrides` merged over values.yaml (shallowly per key). */
export function approximateChart(
  chartDir: string,
  gen: { generation: number; version: string },
  overrides: Values,
): Map<string, K8sObject[]> {
  const values = { ...(parse(readFileSync(join(chartDir, "values.yaml"), "utf8")) as Values), ...overrides };
  values.generations = [gen];
  const helpers = readFileSync(join(chartDir, "templates/_helpers.tpl"), "utf8");
  // Each define up to the `end` that closes it (defines nest if/else/end).
  const defines = new Map<string, string>();
  for (const d of helpers.matchAll(/\{\{-? define "([^"]+)" -?\}\}\n?/g)) {
    let depth = 1;
    const re = /\{\{-?\s*(define|if|with|range|end)\b[^}]*\}\}/g;
    re.lastIndex = d.index! + d[0].length;
    for (let m = re.exec(helpers); m; m = re.exec(helpers)) {
      depth += m[1] === "end" ? -1 : 1;
      if (depth === 0) {
        defines.set(d[1]!, helpers.slice(d.index! + d[0].length, m.index));
        break;
      }
    }
  }
  const fullname = "release-outbox-worker";
  const out = new Map<string, K8sObject[]>();
  for (const f of readdirSync(join(chartDir, "templates")).filter((n) => n.endsWith(".yaml"))) {
    const text = expand(readFileSync(join(chartDir, "templates", f), "utf8"), values, gen, defines, fullname);
    out.set(
      f,
      parseAllDocuments(text)
        .map((d) => d.toJS() as K8sObject | null)
        .filter((o): o is K8sObject => o !== null && typeof o === "object" && "kind" in o),
    );
  }
  return out;
}
