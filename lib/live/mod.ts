/**
 * The live subsystem: one `LiveHub` per process, installed as `svc.ext.live` and stopped with the
 * app. Imported by `lib/subsystems.ts` only (routes use `lib/live/upgrade.ts`).
 */
import { SUBSYSTEMS } from "../app.ts";
import { LiveHub } from "./hub.ts";

export { LiveHub, type LiveStats } from "./hub.ts";
export { liveHub, upgradeLive } from "./upgrade.ts";

SUBSYSTEMS.push((svc) => {
  const hub = new LiveHub(svc.kv);
  svc.ext.live = hub;
  return {
    name: "live",
    // the hub starts its watches with the first socket and stops them with the last
    stop: () => hub.stop(),
  };
});
