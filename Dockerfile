# Fastpaca Context Store server image.
#
#   docker build -t fastpaca/context-store .
#   docker run -p 4000:4000 -v fastpaca_data:/data fastpaca/context-store
#
# Deployment guide: docs/deployment.md. The file builds with BuildKit and with
# the classic builder alike (no BuildKit-only syntax).

# Any Debian-like image with Node.js >= 20.19 and npm on the PATH and a `node`
# user (uid 1000), as the official node images have.
ARG BASE_IMAGE=node:20-bookworm-slim

# --- production dependencies of the server (and of its workspace dependency,
# the contract), nothing else. Only the manifests are copied, so this layer is
# rebuilt only when they change. Install scripts are not run: the one native
# addon in the tree (msgpackr-extract) ships prebuilt binaries, and msgpackr
# falls back to JavaScript without them.
FROM ${BASE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY contract/package.json contract/
COPY server/package.json server/
RUN npm ci --omit=dev --workspace=@fastpaca/server --ignore-scripts --no-audit --no-fund \
    --no-update-notifier \
  && npm cache clean --force

# --- build: the compiler and type packages (optional native binaries of the
# dev tools are not needed for tsc), then contract and server.
FROM ${BASE_IMAGE} AS builder
WORKDIR /app
COPY package.json package-lock.json ./
COPY contract/package.json contract/
COPY server/package.json server/
RUN npm ci --workspace=@fastpaca/contract --workspace=@fastpaca/server --include-workspace-root \
  --omit=optional --ignore-scripts --no-audit --no-fund --no-update-notifier
COPY tsconfig.base.json ./
COPY contract/ contract/
COPY server/ server/
# Project references: building the server builds the contract first.
# Test harnesses (the planted-bug entry point among them) and the simulator stay out of the image.
RUN npx --no-install tsc -b server/tsconfig.build.json \
  && rm -rf server/dist/testing server/dist/sim

# --- runtime
FROM ${BASE_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="Fastpaca Context Store" \
  org.opencontainers.image.description="Durable, token-budgeted LLM context for agent apps: REST, websocket streams and Raft replication on one port" \
  org.opencontainers.image.licenses="Apache-2.0" \
  org.opencontainers.image.version="${VERSION}" \
  org.opencontainers.image.revision="${REVISION}" \
  org.opencontainers.image.documentation="docs/deployment.md"

ENV NODE_ENV=production \
  FASTPACA_RAFT_DATA_DIR=/data

WORKDIR /app
# The manifests and every node_modules folder npm made (the root's and the
# workspaces' own, where versions differ from the root's).
COPY --from=deps /app ./
COPY LICENSE ./
COPY server/fastpaca.sample.env server/
COPY --from=builder /app/contract/dist contract/dist
COPY --from=builder /app/server/dist server/dist

# The data directory belongs to the unprivileged `node` user of the base image;
# a named volume mounted on /data starts as a copy of it, ownership included.
# A host directory mounted there must be writable by uid 1000.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data

# REST, websocket streams, node-to-node traffic, /metrics and health checks.
EXPOSE 4000

# Ready = joined a cluster (or running alone) and every local group has a
# leader. curl is not in slim images; node is. PORT is the server's own port
# variable, so the check follows it.
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "-e", "require('http').get({host:'127.0.0.1',port:process.env.PORT||4000,path:'/health/ready',timeout:4000},r=>process.exit(r.statusCode===200?0:1)).on('timeout',()=>process.exit(1)).on('error',()=>process.exit(1))"]

# PID 1 is node itself, with no shell or init in between: `docker stop`'s
# SIGTERM reaches the server, whose handler stops accepting, drains in-flight
# requests (at most FASTPACA_SHUTDOWN_TIMEOUT_MS), flushes the log and exits 0.
# An init (tini, `docker run --init`) would add nothing here: the server starts
# no child processes, so there are no zombies to reap. The one difference: the
# kernel ignores signals PID 1 has no handler for, and the server installs its
# handlers once it listens, so a SIGTERM during start-up (log replay) waits for
# the runtime's SIGKILL, which the log is built to survive. Use --init if you
# prefer that a start-up be interruptible at once.
STOPSIGNAL SIGTERM
CMD ["node", "server/dist/main.js"]
