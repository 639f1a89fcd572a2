/**
 * charts/outbox-worker against deploy/k8s: Helm cannot be installed here, so
 * the chart is rendered APPROXIMATELY (./helm-approx.ts) for one generation
 * and compared with `kubectl kustomize deploy/k8s/overlays/gen-42`, object by
 * object, after removing what differs by design (names, Helm's own labels,
 * the image reference, env the chart adds only when its values are set).
 *
 * Validated: the same kinds per generation; field-for-field equality of the
 * worker Job, Service, PDB and NetworkPolicy with the chart's default values
 * (so their defaults cannot drift apart); the approximated objects against
 * the Kubernetes schemas.
 * NOT validated (needs helm): Go template semantics (if/with/range bodies are
 * all kept, so conditionals are unchecked), sprig functions other than
 * quote/required/add/div, --set/-f merging, hooks and their ordering, the
 * drain Job and ServiceMonitor (optional, Helm-only), `helm lint`.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { approximateChart } from "./helm-approx.js";
import { type K8sObject, kubectl, render, root, validate } from "./kustomize.js";

const CHART = join(root, "charts/outbox-worker");
const GEN = { generation: 42, version: "7d1e0c4" };
// What a user's values file sets; the rest is the chart's defaults.
const USER_VALUES = {
  database: { existingSecret: "outbox-database", secretKey: "DATABASE_URL", schema: "cutover" },
};
const PER_GENERATION = ["worker-job.yaml", "service.yaml", "pdb.yaml", "networkpolicy.yaml"];
// Labels one side has by design: Helm's release bookkeeping, Kustomize's part-of and version.
const BOOKKEEPING_LABELS = new Set([
  "app.kubernetes.io/instance",
  "app.kubernetes.io/managed-by",
  "app.kubernetes.io/part-of",
  "app.kubernetes.io/version",
  "helm.sh/chart",
]);
// Env the chart sets only when the value is given (relays, consumer tuning): "" or "x" in the approximation.
const OPTIONAL_ENV = new Set(["OUTBOX_RELAYS", "x"]);

function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null || BOOKKEEPING_LABELS.has(k) || k === "metadata" || k === "image") continue;
    out[k] = normalize(v);
  }
  if (Array.isArray(out.env)) {
    out.env = (out.env as Array<{ name: string }>)
      .filter((e) => !OPTIONAL_ENV.has(e.name))
      .sort((a, b) => a.name.localeCompare(b.name));
  }
  return out;
}
const withTemplateMetadata = (o: K8sObject) => {
  const tpl = (o.spec as { template?: { metadata?: unknown } } | undefined)?.template;
  return tpl ? { ...(normalize(o) as object), templateMetadata: normalize(tpl.metadata) } : normalize(o);
};

const chart = approximateChart(CHART, GEN, USER_VALUES);
const chartObjects = PER_GENERATION.flatMap((f) => chart.get(f) ?? []);
const kustomized = kubectl.ok ? render("overlays/gen-42") : [];

describe("charts/outbox-worker (approximate rendering)", () => {
  it("names every per-generation object by its generation", () => {
    expect(chartObjects.map((o) => o.metadata.name)).toEqual(
      PER_GENERATION.map(() => "release-outbox-worker-g42"),
    );
  });

  it.each(chartObjects.map((o) => [o.kind, o] as const))(
    "%s is valid against the Kubernetes API schema",
    async (_k, o) => {
      await validate(o);
    },
  );
});

describe.skipIf(!kubectl.ok)("charts/outbox-worker matches deploy/k8s (overlays/gen-42)", () => {
  it("produces the same kinds per generation", () => {
    expect(chartObjects.map((o) => o.kind).sort()).toEqual(kustomized.map((o) => o.kind).sort());
  });

  it.each(["Job", "Service", "PodDisruptionBudget", "NetworkPolicy"])(
    "%s: same fields and defaults",
    (kind) => {
      const fromChart = chartObjects.find((o) => o.kind === kind)!;
      const fromKustomize = kustomized.find((o) => o.kind === kind)!;
      expect(withTemplateMetadata(fromChart)).toEqual(withTemplateMetadata(fromKustomize));
    },
  );

  it("the comparison is live: a changed default is caught", () => {
    const drifted = approximateChart(CHART, GEN, {
      ...USER_VALUES,
      retire: { quietMs: 1000, timeoutMs: 3_600_000 },
    });
    const job = drifted.get("worker-job.yaml")![0]!;
    expect(withTemplateMetadata(job)).not.toEqual(
      withTemplateMetadata(kustomized.find((o) => o.kind === "Job")!),
    );
  });
});
