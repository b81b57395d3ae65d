/**
 * The outbound mail subsystem: installs the reply planner (`svc.ext.planOutbound`), registers
 * the outbox queue worker, and sweeps the outbox at start (after a restart or crash) and every
 * few minutes. The parts: outbound_plan.ts (what to send), outbox.ts (durable delivery),
 * outbound_mail.ts (the MIME message), smtp_transport.ts and smtp_settings.ts.
 */
import { SUBSYSTEMS } from "../app.ts";
import { onQueue, type QueueMessage } from "../queue.ts";
import { logger } from "../log.ts";
import { handleOutboundSend, OUTBOUND_SEND, type OutboundQueueMessage } from "./outbox.ts";
import { sweepOutbox } from "./outbox.ts";
import { planOutbound } from "./outbound_plan.ts";

export { planOutbound, retryDelivery } from "./outbound_plan.ts";
export { kickQueued } from "./outbox.ts";

const log = logger("smtp");

/** How often the outbox is swept for records whose queue message was lost. */
export const SWEEP_INTERVAL_MS = 5 * 60_000;

onQueue(OUTBOUND_SEND, (svc, msg: QueueMessage) => {
  return handleOutboundSend(svc, msg as OutboundQueueMessage);
});

SUBSYSTEMS.push((svc) => {
  svc.ext.planOutbound = planOutbound;
  let timer: ReturnType<typeof setInterval> | undefined;
  let sweeping: Promise<unknown> = Promise.resolve();
  const sweep = () => {
    sweeping = sweepOutbox(svc).catch((e) => log.error("outbox sweep failed", { error: e }));
  };
  return {
    name: "outbound",
    start() {
      // after a restart: resend what was due or interrupted
      sweep();
      timer = setInterval(sweep, SWEEP_INTERVAL_MS);
    },
    async stop() {
      clearInterval(timer);
      await sweeping;
    },
  };
});
