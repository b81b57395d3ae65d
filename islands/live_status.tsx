/**
 * A small mark in the sidebar while the live connection is down: "Reconnecting…" or
 * "Offline" with a retry button. Nothing is shown while connected (nor during the first
 * seconds of the first connect, so a normal page load does not flash it).
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { live } from "../lib/live/client.ts";

export default function LiveStatus() {
  const client = typeof document === "undefined" ? null : live();
  const settled = useSignal(false);
  useEffect(() => {
    const t = setTimeout(() => settled.value = true, 1500);
    // once connected, any later drop is shown at once
    const off = client?.status.subscribe((s) => {
      if (s === "online") settled.value = true;
    });
    return () => {
      clearTimeout(t);
      off?.();
    };
  }, []);
  const status = client?.status.value ?? "connecting";
  const show = status !== "online" && settled.value;
  return (
    <span class={`live-status${show ? " is-" + status : ""}`} data-live={status} aria-live="polite">
      {show && status === "connecting" ? "Reconnecting…" : null}
      {show && status === "offline"
        ? (
          <>
            Offline
            <button
              type="button"
              class="link-button"
              onClick={() => client?.reconnectNow()}
            >
              Retry now
            </button>
          </>
        )
        : null}
    </span>
  );
}
