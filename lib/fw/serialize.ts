/**
 * Island props on the server: devalue with signals kept (and shared identity kept: one
 * signal given to two islands arrives as one signal).
 * @module
 */
import { parse, stringify } from "devalue";
import { Signal } from "@preact/signals";
import { revivers, SIGNAL_TAG, SLOT_TAG } from "./runtime/revive.ts";

/** A placeholder for JSX passed to an island: rendered on the server, kept as HTML. */
export class SlotRef {
  constructor(readonly id: number) {}
}

const REDUCERS = {
  [SIGNAL_TAG]: (v: unknown) => v instanceof Signal && [v.peek()],
  [SLOT_TAG]: (v: unknown) => v instanceof SlotRef && [v.id],
};

/**
 * Serialize a value to devalue's JSON text; safe to embed in a `<script>`
 * (`<` only ever appears inside JSON strings, where `\u003C` means the same).
 */
export function serializeProps(value: unknown): string {
  return stringify(value, REDUCERS).replaceAll("<", "\\u003C");
}

/** Parse what `serializeProps` wrote (tests and tools; the browser uses `runtime/client.ts`). */
export function deserializeProps(
  text: string,
  slot: (id: number) => unknown = (id) => id,
): unknown {
  return parse(text, revivers(slot));
}
