/**
 * Small presentational pieces used by pages and islands: status pill, avatar, time.
 * @module
 */
import { fullTime, hueOf, initials, shortTime, statusLabel } from "./format.ts";

/** A ticket status as a coloured pill. */
export function StatusPill(props: { status: string }) {
  return <span class={`pill pill-${props.status}`}>{statusLabel(props.status)}</span>;
}

/** Round initials avatar with a stable colour per person. */
export function Avatar(props: { name: string; id?: string; size?: "sm" | "md"; title?: string }) {
  const hue = hueOf(props.id ?? props.name);
  return (
    <span
      class={`avatar avatar-${props.size ?? "md"}`}
      style={`--hue:${hue}`}
      title={props.title ?? props.name}
      aria-label={props.title ?? props.name}
      role="img"
    >
      {initials(props.name)}
    </span>
  );
}

/** A `<time>` with a short text and the exact time in its title. */
export function Time(props: { iso: string; now?: number }) {
  return (
    <time datetime={props.iso} title={fullTime(props.iso)}>
      {shortTime(props.iso, props.now)}
    </time>
  );
}
