/**
 * WarmDesk entry point: `deno task start`. Reads config, opens KV, serves HTTP, runs the mail
 * poll from Deno.cron, and shuts down gracefully on SIGTERM/SIGINT.
 */
import { ConfigError, loadConfig } from "./lib/config.ts";
import { createWarmDesk, type WarmDesk } from "./lib/app.ts";
import { logger } from "./lib/log.ts";
import "./lib/subsystems.ts";

const log = logger("main");
let current: WarmDesk | null = null;

// Deno.cron must be registered at module top level. The poll itself decides whether its
// interval has elapsed and holds a KV lease, so several processes never poll at once.
Deno.cron("warmdesk-mail-tick", "* * * * *", async () => {
  const tick = current?.svc.ext.cronTick as (() => Promise<void>) | undefined;
  await tick?.();
});

if (import.meta.main) {
  let config;
  try {
    config = await loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`warmdesk: ${e.message}`);
      Deno.exit(2);
    }
    throw e;
  }
  const app = await createWarmDesk({
    config,
    mode: Deno.env.get("WARMDESK_DEV") ? "dev" : "prod",
  });
  current = app;
  const ac = new AbortController();
  let server: Deno.HttpServer | null = null;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    // background work first: live sockets close with 1001 and the poll lease is released
    // while the server still answers, then the listener drains
    await app.stop();
    ac.abort();
    await server?.finished.catch(() => {});
    await app.close();
    Deno.exit(0);
  };
  // listen for signals before serving, so an early SIGTERM still shuts down cleanly
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  await app.start();
  server = Deno.serve({
    port: config.port,
    signal: ac.signal,
    onListen: ({ hostname, port }) =>
      log.info("listening", { hostname, port, base_url: config.base_url, config: config.source }),
  }, app.fetch);
}
