import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

export const root = fileURLToPath(new URL("../../", import.meta.url));
export const K8S = join(root, "deploy/k8s");

/** kubectl with its built-in Kustomize, or why there is none. */
export const kubectl: { ok: true } | { ok: false; reason: string } = (() => {
  const r = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" });
  if (r.error || r.status !== 0) return { ok: false, reason: "kubectl is not installed: nothing rendered" };
  return { ok: true };
})();

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  [k: string]: unknown;
}

/** Every directory under deploy/k8s that holds a kustomization.yaml, relative to deploy/k8s. */
export function kustomizations(dir = K8S): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const sub = join(dir, e.name);
    if (existsSync(join(sub, "kustomization.yaml"))) out.push(relative(K8S, sub));
    out.push(...kustomizations(sub));
  }
  return out.sort();
}

/** `kubectl kustomize deploy/k8s/<dir>`, parsed. Throws with kubectl's message when it fails. */
export function render(dir: string): K8sObject[] {
  const r = spawnSync("kubectl", ["kustomize", join(K8S, dir)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${r.stderr}`);
  return parseAllDocuments(r.stdout).map((d) => {
    if (d.errors.length > 0) throw new Error(`${dir}: ${d.errors[0]!.message}`);
    return d.toJS() as K8sObject;
  });
}

/** Validates `obj` with kubernetes-models (the Kubernetes OpenAPI schemas); throws the schema errors. */
export async function validate(obj: K8sObject): Promise<void> {
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
  const path = group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
  const mod = (await import(path)) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = mod[obj.kind];
  if (!Model) throw new Error(`${obj.apiVersion} ${obj.kind}: no schema in kubernetes-models`);
  new Model(obj).validate();
}
