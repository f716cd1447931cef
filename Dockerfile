# zaqar-ts container image.
#
#   docker build -t zaqar-ts:0.1.0 .
#   docker run --rm -p 8888:8888 -v zaqar-data:/data zaqar-ts:0.1.0
#
# Two stages: the builder installs every dependency and compiles TypeScript; the
# runtime stage holds only production dependencies and dist/, owned by root and
# read-only to the server's user (uid/gid 10001), which may write only /data (the
# LMDB environment: mount a volume there) and /tmp. The Helm chart in deploy/helm
# runs this image with a read-only root filesystem.
#
# Both stages use the same Debian 12 (bookworm, glibc 2.36) Node 20 base: the
# native modules (lmdb, the pinned uWebSockets.js build, msgpackr-extract) are
# installed from prebuilt binaries that must match the runtime's Node ABI and glibc.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The entrypoint is package.json's bin: fail here if the compiler put it elsewhere.
RUN npm run build \
 && test -f "$(node -p "require('./package.json').bin['zaqar-ts']")" \
 && npm prune --omit=dev --no-audit --no-fund
# Keep only the uWebSockets.js binary for this platform and Node ABI (the package ships
# 18, about 85 MB), and fail the build if a native module does not load on this base
# (uWebSockets.js would otherwise fall back to a slow JavaScript implementation).
RUN keep="uws_$(node -p "process.platform + '_' + process.arch + '_' + process.versions.modules").node" \
 && find node_modules/uWebSockets.js/binaries -name 'uws_*.node' ! -name "$keep" -delete \
 && node -e "require('./node_modules/uWebSockets.js/binaries/$keep'); require('lmdb')"

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    ZAQAR_LISTEN=0.0.0.0:8888 \
    ZAQAR_RAFT_LISTEN=0.0.0.0:7000 \
    ZAQAR_DATA_DIR=/data
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# /app/cli.js, the stable entrypoint the chart execs, links to package.json's bin.
RUN ln -s "/app/$(node -p "require('/app/package.json').bin['zaqar-ts']")" /app/cli.js \
 && groupadd --system --gid 10001 zaqar \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin zaqar \
 && mkdir /data \
 && chown 10001:10001 /data \
 && chmod 0750 /data
USER 10001:10001
VOLUME ["/data"]
# 8888: HTTP/WebSocket API, /healthz, /readyz, /metrics. 7000: Raft/gRPC between nodes.
EXPOSE 8888 7000
ENTRYPOINT ["node", "/app/cli.js"]
CMD ["serve"]
