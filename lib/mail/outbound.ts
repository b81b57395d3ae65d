/**
 * The outbound mail subsystem: installs the reply planner (`svc.ext.planOutbound`), registers
 * the outbox queue worker, and sweeps the outbox at start (after a restart or crash) and every
 * few minutes. The parts: outbound_plan.ts (what to send), outbox.ts (durable delivery),
 * outbound_mail.ts (the MIME message), smtp_transport.ts and smtp_settings.ts.
 */
import { SUBSYSTEMS } from "../app.ts";
import { onQueue, type QueueMessage } from "../queue.ts";
import { logger } from "../log.ts";
import type { PlanOutbound } from "../helpdesk.ts";
import type { Services } from "../state.ts";
import { keys } from "../db/keys.ts";
import { handleOutboundSend, OUTBOUND_SEND, type OutboundQueueMessage } from "./outbox.ts";
import { drainOutbox, sweepOutbox } from "./outbox.ts";
import { planOutbound } from "./outbound_plan.ts";

export { planOutbound, retryDelivery } from "./outbound_plan.ts";
export { kickQueued } from "./outbox.ts";

const log = logger("smtp");

/** How often the outbox is swept for records whose queue message was lost. */
export const SWEEP_INTERVAL_MS = 5 * 60_000;
/** How long the fast path waits for the reply's commit before leaving it to the queue. */
export const FAST_PATH_WAIT_MS = 5_000;

/**
 * The fast path: a KV queue message takes about 40-100 ms to be picked up, a watch on the new
 * outbox record a few ms. So when this process plans a reply, it watches for the reply's commit
 * and runs the worker at once. The queue message stays the durable way: it arrives later and
 * finds the record claimed or gone (the claim is checked, so the mail goes out once).
 */
class FastPath {
  private pending = new Set<{ reader: ReadableStreamDefaultReader; done: Promise<void> }>();
  constructor(private svc: Services) {}

  arm(id: string): void {
    const reader = this.svc.kv.watch([keys.outbox(id)]).getReader();
    const timer = setTimeout(() => reader.cancel().catch(() => {}), FAST_PATH_WAIT_MS);
    const item: { reader: ReadableStreamDefaultReader; done: Promise<void> } = {
      reader,
      done: Promise.resolve(),
    };
    item.done = (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return; // timed out or stopped: the queue message will do it
          if (value[0].value !== null) break;
        }
        clearTimeout(timer);
        await reader.cancel();
        await handleOutboundSend(this.svc, { type: OUTBOUND_SEND, id });
      } catch (e) {
        log.warn("outbound fast path failed; the queue will retry", { error: e });
      } finally {
        clearTimeout(timer);
        this.pending.delete(item);
      }
    })();
    this.pending.add(item);
  }

  async stop(): Promise<void> {
    const items = [...this.pending];
    for (const i of items) await i.reader.cancel().catch(() => {});
    await Promise.all(items.map((i) => i.done));
  }
}

onQueue(OUTBOUND_SEND, (svc, msg: QueueMessage) => {
  return handleOutboundSend(svc, msg as OutboundQueueMessage);
});

SUBSYSTEMS.push((svc) => {
  const fast = new FastPath(svc);
  let started = false;
  const planner: PlanOutbound = async (...args) => {
    const plan = await planOutbound(...args);
    if (started && plan?.delivery.status === "queued") fast.arm(args[2]);
    return plan;
  };
  svc.ext.planOutbound = planner;
  let timer: ReturnType<typeof setInterval> | undefined;
  let sweeping: Promise<unknown> = Promise.resolve();
  const sweep = () => {
    sweeping = sweepOutbox(svc).catch((e) => log.error("outbox sweep failed", { error: e }));
  };
  return {
    name: "outbound",
    start() {
      started = true;
      // after a restart: resend what was due or interrupted
      sweep();
      timer = setInterval(sweep, SWEEP_INTERVAL_MS);
    },
    async stop() {
      started = false;
      clearInterval(timer);
      await fast.stop();
      await sweeping;
      // let running SMTP sessions finish (bounded by SEND_TIMEOUTS.total) before KV closes
      await drainOutbox();
    },
  };
});
