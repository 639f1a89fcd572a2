/**
 * Finds the message brokers the relay tests need, per broker, in the order the
 * project promises for a fresh machine: its URL from the environment
 * (NATS_URL, REDIS_URL, AMQP_URL) if set, else a testcontainers container when
 * a container runtime answers, else none: the tests that need it are skipped
 * with a line naming the broker and how to provide it, so `npm test` on a
 * machine with only Node passes and says what it did not run.
 */

export type BrokerName = "nats" | "redis" | "rabbitmq";

export interface BrokerUrls {
  /** Empty string: not available, tests skipped. */
  nats: string;
  redis: string;
  rabbitmq: string;
}

interface Spec {
  title: string;
  env: string;
  example: string;
  image: string;
  port: number;
  command?: string[];
  environment?: Record<string, string>;
  ready: RegExp;
  url(host: string, port: number): string;
}

export const BROKERS: Record<BrokerName, Spec> = {
  nats: {
    title: "NATS JetStream",
    env: "NATS_URL",
    example: "nats://127.0.0.1:4222 (a server started with -js)",
    image: "nats:2.10-alpine",
    port: 4222,
    command: ["-js"],
    ready: /Server is ready/,
    url: (h, p) => `nats://${h}:${p}`,
  },
  redis: {
    title: "Redis",
    env: "REDIS_URL",
    example: "redis://127.0.0.1:6379",
    image: "redis:7-alpine",
    port: 6379,
    ready: /Ready to accept connections/,
    url: (h, p) => `redis://${h}:${p}`,
  },
  rabbitmq: {
    title: "RabbitMQ",
    env: "AMQP_URL",
    example: "amqp://guest:guest@127.0.0.1:5672",
    image: "rabbitmq:3.13-alpine",
    port: 5672,
    // guest may only log in from localhost, which a mapped port is not.
    environment: { RABBITMQ_DEFAULT_USER: "cutover", RABBITMQ_DEFAULT_PASS: "cutover" },
    ready: /Server startup complete/,
    url: (h, p) => `amqp://cutover:cutover@${h}:${p}`,
  },
};

/** The line printed for a broker whose tests are skipped. */
export function skipLine(name: BrokerName): string {
  const b = BROKERS[name];
  return `SKIPPED ${b.title} relay tests: no ${b.title} server. Set ${b.env}=${b.example}, or start a container runtime (Docker, Podman) so testcontainers can run ${b.image}.`;
}

/** Answers within 5 s whether testcontainers can reach a container runtime. */
async function containerRuntime(): Promise<typeof import("testcontainers") | undefined> {
  if (process.env.CUTOVER_TEST_NO_CONTAINERS === "1") return undefined;
  try {
    const tc = await import("testcontainers");
    await Promise.race([
      tc.getContainerRuntimeClient(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error("container runtime timeout")), 5_000).unref(),
      ),
    ]);
    return tc;
  } catch {
    return undefined;
  }
}

export async function startBrokers(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ urls: BrokerUrls; sources: Record<BrokerName, string>; stop(): Promise<void> }> {
  const urls: BrokerUrls = { nats: "", redis: "", rabbitmq: "" };
  const sources = { nats: "none", redis: "none", rabbitmq: "none" } as Record<BrokerName, string>;
  const stops: Array<() => Promise<unknown>> = [];
  const wanted = (Object.keys(BROKERS) as BrokerName[]).filter((n) => {
    const url = env[BROKERS[n].env];
    if (url) {
      urls[n] = url;
      sources[n] = BROKERS[n].env;
    }
    return !url;
  });
  const tc = wanted.length > 0 ? await containerRuntime() : undefined;
  if (tc) {
    await Promise.all(
      wanted.map(async (n) => {
        const b = BROKERS[n];
        try {
          let c = new tc.GenericContainer(b.image)
            .withExposedPorts(b.port)
            .withWaitStrategy(tc.Wait.forLogMessage(b.ready));
          if (b.command) c = c.withCommand(b.command);
          if (b.environment) c = c.withEnvironment(b.environment);
          const started = await c.start();
          stops.push(() => started.stop());
          urls[n] = b.url(started.getHost(), started.getMappedPort(b.port));
          sources[n] = "testcontainers";
        } catch {
          // Left unavailable: its tests are skipped with skipLine().
        }
      }),
    );
  }
  return {
    urls,
    sources,
    async stop() {
      await Promise.allSettled(stops.map((s) => s()));
    },
  };
}
