/**
 * deploy/k8s rendered by a real tool (kubectl's Kustomize) and every object
 * validated against the Kubernetes API schemas (kubernetes-models), then the
 * per-generation design checked on the rendered objects: names and selectors
 * carry the generation, the worker retires, a disruption is not a success.
 *
 * Not validated here (no cluster): unknown fields (kubernetes-models' schemas
 * allow additional properties, so a misspelled key passes), admission (Pod
 * Security, quotas, webhooks), that the image and the Secret exist, and
 * anything the API server defaults or rejects at apply time.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { K8S, type K8sObject, kubectl, kustomizations, render, validate } from "./kustomize.js";

const dirs = kubectl.ok ? kustomizations() : [];
const rendered = new Map(dirs.map((d) => [d, render(d)]));
const all = [...rendered.entries()].flatMap(([dir, objs]) => objs.map((o) => [dir, o] as const));

type Container = {
  name: string;
  image: string;
  env?: Array<{ name: string; value?: string }>;
  securityContext?: Record<string, unknown>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  startupProbe?: unknown;
};
type PodSpec = {
  restartPolicy?: string;
  securityContext?: Record<string, unknown>;
  containers: Container[];
  automountServiceAccountToken?: boolean;
};
const podOf = (o: K8sObject) =>
  (o.spec as { template: { metadata: { labels: Record<string, string> }; spec: PodSpec } }).template;
const env = (c: Container, name: string) => c.env?.find((e) => e.name === name)?.value;
const selects = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);
function selectorOf(o: K8sObject): Record<string, string> {
  const spec = o.spec as Record<string, unknown>;
  if (o.kind === "Service") return spec.selector as Record<string, string>;
  if (o.kind === "PodDisruptionBudget")
    return (spec.selector as { matchLabels: Record<string, string> }).matchLabels;
  if (o.kind === "NetworkPolicy")
    return (spec.podSelector as { matchLabels: Record<string, string> }).matchLabels;
  throw new Error(o.kind);
}

describe.skipIf(!kubectl.ok)(
  `deploy/k8s rendered with kubectl kustomize${kubectl.ok ? "" : ` (${kubectl.reason})`}`,
  () => {
    it("renders every kustomization", () => {
      expect(dirs).toEqual(
        expect.arrayContaining([
          "allocate",
          "base",
          "examples/app",
          "overlays/gen-41",
          "overlays/gen-42",
          "overlays/release",
        ]),
      );
      for (const [dir, objs] of rendered) expect(objs.length, dir).toBeGreaterThan(0);
    });

    it.each(all.map(([dir, o]) => [dir, o.kind, o.metadata.name, o] as const))(
      "%s: %s %s is valid against the Kubernetes API schema",
      async (_dir, _kind, _name, o) => {
        await validate(o);
      },
    );

    it("the validator is live: a wrong type and a missing required field fail", async () => {
      const job = structuredClone(rendered.get("overlays/gen-42")!.find((o) => o.kind === "Job")!);
      await expect(validate({ ...job, spec: { ...job.spec, parallelism: "two" } })).rejects.toThrow(
        /parallelism/,
      );
      const noContainers = structuredClone(job);
      delete (podOf(noContainers).spec as Partial<PodSpec>).containers;
      await expect(validate(noContainers)).rejects.toThrow(/containers/);
    });

    it.each(["overlays/gen-41", "overlays/gen-42"])(
      "%s: every object is its generation's, and selects only its pods",
      (dir) => {
        const gen = dir.replace("overlays/gen-", "");
        const objs = rendered.get(dir)!;
        expect(objs.map((o) => o.kind).sort()).toEqual([
          "Job",
          "NetworkPolicy",
          "PodDisruptionBudget",
          "Service",
        ]);
        const job = objs.find((o) => o.kind === "Job")!;
        const pod = podOf(job);
        for (const o of objs) {
          expect(o.metadata.name).toBe(`outbox-worker-g${gen}`);
          expect(o.metadata.labels?.["cutover.dev/generation"]).toBe(gen);
          if (o.kind !== "Job") {
            const selector = selectorOf(o);
            expect(selector["cutover.dev/generation"], `${o.kind} selector`).toBe(gen);
            expect(selects(selector, pod.metadata.labels), `${o.kind} selects the Job's pods`).toBe(true);
          }
        }
        const worker = pod.spec.containers.find((c) => c.name === "worker")!;
        expect(env(worker, "CUTOVER_GENERATION")).toBe(gen);
        expect(env(worker, "OUTBOX_VERSION")).toMatch(/^[0-9a-f]{7}$/);
        expect(worker.image).toBe(`ghcr.io/acme/shop-outbox-worker:${env(worker, "OUTBOX_VERSION")}`);
      },
    );

    it("the worker Job retires instead of restarting, and a disruption is not a success", () => {
      const job = rendered.get("overlays/gen-42")!.find((o) => o.kind === "Job")!;
      const spec = job.spec as Record<string, unknown>;
      const pod = podOf(job).spec;
      const worker = pod.containers[0]!;
      expect(env(worker, "OUTBOX_RETIRE_WHEN_SUPERSEDED")).toBe("true");
      expect(Number(env(worker, "OUTBOX_RETIRE_TIMEOUT_MS"))).toBeGreaterThan(
        Number(env(worker, "OUTBOX_RETIRE_QUIET_MS")),
      );
      expect(spec.completions).toBeUndefined(); // work-queue Job: done when a pod exits 0
      expect(spec.activeDeadlineSeconds).toBeUndefined(); // never killed with rows left
      expect(spec.parallelism).toBeGreaterThanOrEqual(2); // minAvailable 1 must not block node drains
      expect(pod.restartPolicy).toBe("Never");
      expect(spec.podFailurePolicy).toEqual({
        rules: [
          { action: "FailJob", onExitCodes: { containerName: "worker", operator: "In", values: [2] } },
          { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
        ],
      });
    });

    it("every workload runs non-root, read-only, without privilege escalation, with resources (and the worker with probes)", () => {
      const workloads = all.filter(([, o]) => o.kind === "Job" || o.kind === "Deployment");
      expect(workloads.length).toBeGreaterThan(4);
      for (const [dir, o] of workloads) {
        const pod = podOf(o).spec;
        expect(pod.securityContext, `${dir} ${o.metadata.name}`).toMatchObject({ runAsNonRoot: true });
        const containers = [
          ...pod.containers,
          ...((pod as { initContainers?: Container[] }).initContainers ?? []),
        ];
        for (const c of containers) {
          const where = `${dir} ${o.metadata.name}/${c.name}`;
          expect(c.securityContext, where).toMatchObject({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
          });
          expect(c.resources?.requests?.memory, where).toBeDefined();
          expect(c.resources?.limits?.memory, where).toBeDefined();
          expect(c.image, where).not.toMatch(/:latest$/);
          if (c.name === "worker") {
            expect(c.livenessProbe && c.readinessProbe && c.startupProbe, where).toBeTruthy();
            expect(pod.automountServiceAccountToken, where).toBe(false);
          }
        }
      }
    });

    it("overlays/release runs two generations side by side without their selectors overlapping", () => {
      const objs = rendered.get("overlays/release")!;
      const jobs = objs.filter((o) => o.kind === "Job");
      expect(jobs.map((j) => j.metadata.name).sort()).toEqual(["outbox-worker-g41", "outbox-worker-g42"]);
      for (const o of objs.filter((x) => x.kind !== "Job")) {
        const matched = jobs.filter((j) => selects(selectorOf(o), podOf(j).metadata.labels));
        expect(
          matched.map((j) => j.metadata.name),
          `${o.kind} ${o.metadata.name}`,
        ).toEqual([o.metadata.name]);
      }
    });

    it("the base alone cannot serve a generation: its placeholder fails the worker's config check (exit 2, FailJob)", () => {
      const job = rendered.get("base")!.find((o) => o.kind === "Job")!;
      expect(env(podOf(job).spec.containers[0]!, "CUTOVER_GENERATION")).toBe("set-by-the-generation-overlay");
    });

    it("the allocate Job migrates first, then prints the generation for the given version", () => {
      const job = rendered.get("allocate")!.find((o) => o.kind === "Job")!;
      const pod = podOf(job).spec as PodSpec & { initContainers: Container[] };
      expect(pod.initContainers.map((c) => (c as { args?: string[] }).args)).toEqual([["migrate"]]);
      expect((pod.containers[0] as { args?: string[] }).args).toEqual([
        "generation",
        "allocate",
        "--version",
        "$(OUTBOX_VERSION)",
      ]);
    });

    it("the example app sets CUTOVER_GENERATION in its pod template and tags its sessions with it", () => {
      const app = rendered.get("examples/app")!.find((o) => o.kind === "Deployment")!;
      const pod = podOf(app);
      const c = pod.spec.containers[0]!;
      expect(env(c, "CUTOVER_GENERATION")).toBe(pod.metadata.labels["cutover.dev/generation"]);
      expect(env(c, "PGAPPNAME")).toMatch(/ cutover:g\$\(CUTOVER_GENERATION\)$/);
    });
  },
);

describe("deploy/k8s/new-generation.sh", () => {
  const tmp = mkdtempSync(join(tmpdir(), "cutover-k8s-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  cpSync(K8S, tmp, { recursive: true });
  const script = (...args: string[]) =>
    spawnSync("sh", [join(tmp, "new-generation.sh"), ...args], { encoding: "utf8" });

  it("writes exactly the committed example overlay (so the examples are what the script makes)", () => {
    rmSync(join(tmp, "overlays/gen-42"), { recursive: true });
    const r = script("42", "7d1e0c4", "ghcr.io/acme/shop-outbox-worker");
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(tmp, "overlays/gen-42/kustomization.yaml"), "utf8")).toBe(
      readFileSync(join(K8S, "overlays/gen-42/kustomization.yaml"), "utf8"),
    );
  });

  it.each([
    [["0", "abc"], 2, /GENERATION must be a positive integer; got "0"/],
    [["4x", "abc"], 2, /GENERATION must be a positive integer/],
    [["43", "a b"], 2, /VERSION must be a tag/],
    [["43"], 2, /usage:/],
    [["41", "abc"], 1, /gen-41 exists already: a generation is deployed once/],
  ])("refuses %j (exit %i)", (args, code, message) => {
    const r = script(...args);
    expect(r.status).toBe(code);
    expect(r.stderr).toMatch(message);
  });
});
