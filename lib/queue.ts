/**
 * One KV queue listener per process, dispatching by message `type`. Deno allows a single
 * `listenQueue` per KV handle, so every subsystem (outbound mail, delayed polls) registers a
 * handler here instead of listening itself. A handler that throws gets the message again later
 * (KV's retry with backoff); handlers must therefore be idempotent.
 */
import type { Services } from "./state.ts";
import { SUBSYSTEMS } from "./app.ts";
import { logger } from "./log.ts";

const log = logger("queue");

/** A queued message: `type` picks the handler. */
export interface QueueMessage {
  type: string;
  [k: string]: unknown;
}

export type QueueHandler = (svc: Services, msg: QueueMessage) => Promise<void>;

const handlers = new Map<string, QueueHandler>();

/** Register the handler of a message type (at module load). */
export function onQueue(type: string, handler: QueueHandler): void {
  handlers.set(type, handler);
}

/** Enqueue a typed message (outside an atomic operation). */
export async function enqueue(svc: Services, msg: QueueMessage, delayMs = 0): Promise<void> {
  await svc.kv.enqueue(msg, { delay: delayMs });
}

/** Dispatch one message; exported for tests that drive the queue by hand. */
export async function dispatch(svc: Services, msg: unknown): Promise<void> {
  const m = msg as QueueMessage;
  const h = m && typeof m === "object" ? handlers.get(m.type) : undefined;
  if (!h) {
    log.warn("queue message without handler dropped", { type: m?.type });
    return;
  }
  await h(svc, m);
}

SUBSYSTEMS.push((svc) => ({
  name: "queue",
  start() {
    // the listener runs until the KV handle closes
    svc.kv.listenQueue((msg) => dispatch(svc, msg)).catch((e) => {
      log.error("queue listener stopped", { error: e });
    });
  },
}));
