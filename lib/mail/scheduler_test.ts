import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { isDue, pollsLaterThisMinute } from "./scheduler.ts";
import type { LastPoll } from "./imap_settings.ts";

const last = (atMs: number): LastPoll => ({
  at: new Date(atMs).toISOString(),
  ok: true,
  imported: 0,
  threaded: 0,
  skipped: 0,
  failed: 0,
  error: null,
  duration_ms: 5,
});

Deno.test("[scheduler] a poll is due once its interval passed (minus the tick slack)", () => {
  const t0 = Date.parse("2024-05-01T10:00:00Z");
  strictEqual(isDue(null, 60, t0), true);
  strictEqual(isDue(last(t0), 60, t0 + 30_000), false);
  strictEqual(isDue(last(t0), 60, t0 + 58_500), true, "a cron tick a little early still polls");
  strictEqual(isDue(last(t0), 300, t0 + 240_000), false);
  strictEqual(isDue(last(t0), 300, t0 + 300_000), true);
});

Deno.test("[scheduler] intervals under a minute queue the rest of the minute's polls", () => {
  const t0 = 1_000_000;
  deepStrictEqual(pollsLaterThisMinute(t0, 30, t0 + 200), [29_800]);
  deepStrictEqual(pollsLaterThisMinute(t0, 45, t0), [45_000]);
  deepStrictEqual(pollsLaterThisMinute(t0, 59, t0), [59_000]);
  deepStrictEqual(pollsLaterThisMinute(t0, 60, t0), []);
  deepStrictEqual(pollsLaterThisMinute(t0, 20, t0), [20_000, 40_000]);
  deepStrictEqual(pollsLaterThisMinute(t0, 30, t0 + 40_000), [0], "late: at once");
});
