/**
 * The wire names shared by the server serializer and the browser reviver of island props.
 * Browser-safe: no Deno APIs.
 * @module
 */
import { signal } from "@preact/signals";

/** devalue type tag for a signal: the payload is `[value]` (an array, so falsy values count). */
export const SIGNAL_TAG = "Signal";
/** devalue type tag for JSX passed to an island: the payload is `[id]`. */
export const SLOT_TAG = "Slot";

/** Build devalue revivers; `slot(id)` turns a slot id back into something renderable. */
export function revivers(slot: (id: number) => unknown): Record<string, (v: unknown) => unknown> {
  return {
    [SIGNAL_TAG]: (v) => signal((v as [unknown])[0]),
    [SLOT_TAG]: (v) => slot((v as [number])[0]),
  };
}
