# WarmDesk container: official Deno image, non-root user, KV on a volume.
#   docker build -t warmdesk .
#   docker run -p 8000:8000 -v warmdesk-data:/data -e WARMDESK_ADMIN_PASSWORD=... warmdesk
FROM denoland/deno:2.9.6

WORKDIR /app
ENV DENO_DIR=/app/.deno \
    WARMDESK_KV_PATH=/data/warmdesk.kv \
    PORT=8000

# dependencies first, for layer caching
COPY deno.json deno.lock ./
COPY . .
RUN deno install --frozen \
 && deno task build \
 && deno cache main.ts \
 && mkdir -p /data \
 && chown -R deno:deno /data /app/.deno /app/_fresh

USER deno
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD ["deno", "eval", "const r = await fetch('http://127.0.0.1:' + (Deno.env.get('PORT') ?? '8000') + '/api/v1/health'); Deno.exit(r.ok ? 0 : 1)"]
CMD ["deno", "task", "start"]
