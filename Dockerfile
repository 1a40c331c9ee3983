# SoyeBot.
#   Build: docker build -t soyebot .
#   Run:   docker run --env-file .env -p 127.0.0.1:8080:8080 -v soyebot-data:/app/data soyebot
# Or with compose.yaml: docker compose up -d
FROM denoland/deno:2.9.6

WORKDIR /app

# Dependencies first, so that a code change does not refetch them: `deno install` reads the
# import map and the lock file and fills the npm cache and node_modules at build time.
COPY deno.json deno.lock ./
RUN deno install --frozen

# Then the code. Installing again from the entrypoints picks up anything imported inline, checks
# the lock file (--frozen: a dependency missing from deno.lock fails the build instead of
# changing it), and type-checks nothing at run time: the image starts with --cached-only.
COPY main.ts ./
COPY actors/ ./actors/
COPY lib/ ./lib/
RUN deno install --frozen --entrypoint main.ts actors/sessions/host_worker.ts \
  lib/store/settings_writer_worker.ts \
  && mkdir -p /app/data && chown deno:deno /app/data

# The image's unprivileged user (uid 1000). The code and node_modules stay root-owned, read-only.
USER deno

# The store (SQLite, WAL) lives in the volume; everything else in the container is disposable.
ENV DATA_DIR=/app/data
VOLUME ["/app/data"]

# Operations endpoints: /healthz, /readyz, /metrics and the status page at /.
# Inside a container they must listen on every interface, so publish the port to the host's
# loopback only (-p 127.0.0.1:8080:8080) or to a private network; never to the internet.
ENV HTTP_HOST=0.0.0.0 \
  HTTP_PORT=8080 \
  LOG_FORMAT=json
EXPOSE 8080

# The image has no curl: `deno eval` (which runs with all permissions and without the project's
# config) fetches /healthz. A failing probe marks the container unhealthy; restart policies and
# orchestrators act on that.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["deno", "eval", "--no-config", "const port = Deno.env.get('HTTP_PORT') ?? '8080'; const r = await fetch('http://127.0.0.1:' + port + '/healthz').catch(() => undefined); await r?.body?.cancel(); Deno.exit(r?.ok ? 0 : 1);"]

# The same command as `deno task start`. SIGTERM (docker stop) shuts down gracefully within 10 s.
CMD ["deno", "run", "-P=bot", "--v8-flags=--max-semi-space-size=1,--optimize-for-size", "--cached-only", "main.ts"]
