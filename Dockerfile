# syntax=docker/dockerfile:1.7
# outbox-worker image: the Cutover consumer with health, metrics and ops commands.
# Build from the repo root:  docker build -t outbox-worker:$(git rev-parse --short HEAD) .
# Base pinned to an exact Node release (bump deliberately, e.g. with Renovate's digest pinning):
# Node 24, the Active LTS line (Node 20 reached end of life in April 2026; CI tests 20 and 24).

FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY packages/outbox/package.json packages/outbox/
COPY packages/compat-lint/package.json packages/compat-lint/
COPY apps/worker/package.json apps/worker/
COPY tools/package.json tools/
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY packages/outbox packages/outbox
COPY apps/worker apps/worker
RUN ./node_modules/.bin/tsc -b packages/outbox apps/worker

FROM node:24.21.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/outbox/package.json packages/outbox/
COPY packages/compat-lint/package.json packages/compat-lint/
COPY apps/worker/package.json apps/worker/
COPY tools/package.json tools/
# Production dependencies only; no install scripts run.
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force

FROM node:24.21.0-bookworm-slim AS runtime
# V8 heap sizing for a worker (tools/bench reads this line; measured in
# tools/bench/profile/PROFILE.md section 9):
# - a smaller young generation: at full burn-down speed V8 otherwise grows
#   its semi-spaces to 16 MB each for garbage that dies within a chunk; with
#   8 the peak RSS of a 100,000-event burn-down drops ~15-20 MB at the same
#   throughput;
# - an old-generation cap. On a host with 2 GB or more (and no container
#   limit) V8 lets the old generation grow to ~4x what the last full GC kept
#   alive; below a 2 GB cap it grows by at most 1.3-2x. A burn-down keeps
#   ~13-16 MB alive, so the cap takes the peak RSS of a 100,000-event
#   burn-down from ~125 to ~92 MB at the same throughput. 512 MB is the Helm
#   chart's memory limit; a handler set that keeps more alive than that
#   needs NODE_OPTIONS raised with its container limit.
ENV NODE_ENV=production \
    PORT=8080 \
    NODE_OPTIONS="--max-semi-space-size=8 --max-old-space-size=512"
WORKDIR /app
# Code stays root-owned and read-only to the runtime user.
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/package.json ./
COPY --from=build /app/packages/outbox/package.json packages/outbox/
COPY --from=build /app/packages/outbox/dist packages/outbox/dist
COPY --from=build /app/apps/worker/package.json apps/worker/
COPY --from=build /app/apps/worker/dist apps/worker/dist
# The schema's SQL lives inside the library package; migrate() reads it from there.
COPY --from=build /app/packages/outbox/migrations packages/outbox/migrations
# Handler modules go here (FROM this image, COPY ./dist/handlers /app/handlers), so they
# resolve @cutover/worker and @cutover/outbox from /app/node_modules.
# /run/cutover: where the Compose example's `allocate` step leaves the generation
# (CUTOVER_GENERATION_FILE); owned by node so a fresh named volume mounted there is writable.
RUN mkdir -p /app/handlers /run/cutover && chown node:node /run/cutover
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "apps/worker/dist/cli.js"]
CMD ["run"]
