/**
 * Small display helpers shared by pages and islands (browser-safe: no Deno APIs).
 * @module
 */

/** Status names in the order the status menu lists them. */
export const STATUSES = ["new", "open", "pending", "resolved", "closed"] as const;

/** Human label of a ticket status. */
export function statusLabel(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * A short "last activity" text: `just now`, `5 min ago`, `3 h ago`, then a date. The full
 * timestamp goes into the element's `title`/`datetime` so it stays exact.
 */
export function shortTime(iso: string, now = Date.now()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "";
  const d = now - t;
  if (d < MINUTE) return "just now";
  if (d < HOUR) return `${Math.floor(d / MINUTE)} min ago`;
  if (d < DAY) return `${Math.floor(d / HOUR)} h ago`;
  const date = new Date(t);
  const sameYear = date.getUTCFullYear() === new Date(now).getUTCFullYear();
  return date.toLocaleDateString("en-GB", {
    day: "numeric",
    month: "short",
    year: sameYear ? undefined : "numeric",
    timeZone: "UTC",
  });
}

/** A full timestamp for titles and message headers, e.g. `12 Mar 2025, 14:05 UTC`. */
export function fullTime(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return "";
  return new Date(t).toLocaleString("en-GB", {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZone: "UTC",
  }) + " UTC";
}

/** Up to two initials for an avatar: "Ada Lovelace" -> "AL", "bob@x" -> "B". */
export function initials(name: string): string {
  const words = name.replace(/@.*$/, "").split(/[\s._-]+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : words;
  return letters.map((w) => [...w][0]?.toUpperCase() ?? "").join("") || "?";
}

/** A stable hue for someone's avatar colour, from their id or name. */
export function hueOf(key: string): number {
  let h = 0;
  for (const ch of key) h = (h * 31 + ch.codePointAt(0)!) % 360;
  return h;
}

/** `1.2 MB`, `340 KB`, `12 B`. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** True for a same-site path we may redirect to after sign-in (no `//host`, no scheme). */
export function isLocalPath(p: string | null | undefined): p is string {
  return typeof p === "string" && /^\/(?![/\\])/.test(p) && !/[\r\n]/.test(p);
}
