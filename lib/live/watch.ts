/**
 * One `kv.watch` with a sequential handler and a clean stop. The handler runs for one emission
 * at a time; emissions that arrive meanwhile are coalesced by KV into the latest state.
 */
import { logger } from "../log.ts";

const log = logger("live");

export interface KeyWatch {
  /** Cancel the watch and wait until its reader and handler have finished. */
  stop(): Promise<void>;
}

/** Watch `keys` (at most 10) and await `onEmit` for each emission, the first one included. */
export function watchKeys(
  kv: Deno.Kv,
  keys: Deno.KvKey[],
  onEmit: (entries: Deno.KvEntryMaybe<unknown>[]) => Promise<void>,
): KeyWatch {
  const reader = kv.watch(keys).getReader();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      let r: ReadableStreamReadResult<Deno.KvEntryMaybe<unknown>[]>;
      try {
        r = await reader.read();
      } catch (e) {
        // the KV handle closed under us (process shutting down)
        if (!stopped) log.warn("watch ended", { error: e });
        return;
      }
      if (r.done) return;
      try {
        await onEmit(r.value);
      } catch (e) {
        log.error("live update failed", { error: e });
      }
    }
  })();
  return {
    async stop() {
      if (stopped) return await loop;
      stopped = true;
      try {
        await reader.cancel();
      } catch {
        // already errored or closed
      }
      await loop;
    },
  };
}
