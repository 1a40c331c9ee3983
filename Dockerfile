# SoyeBot. Build: docker build -t soyebot .   Run: docker run --env-file .env -v soyebot-data:/app/data soyebot
FROM denoland/deno:2.9.6

WORKDIR /app

# Dependencies first, so that a code change does not refetch them.
COPY deno.json deno.lock ./
COPY main.ts ./
COPY actors/ ./actors/
COPY lib/ ./lib/
RUN deno install --frozen --entrypoint main.ts actors/session_host_worker.ts \
  && mkdir -p /app/data && chown -R deno:deno /app/data

# The image's unprivileged user.
USER deno

ENV DATA_DIR=/app/data
VOLUME ["/app/data"]

# The same command as `deno task start`.
CMD ["deno", "run", "-P=bot", "--cached-only", "main.ts"]
