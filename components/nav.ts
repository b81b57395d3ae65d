/**
 * Per-request data for the sidebar, loaded by `routes/(app)/_middleware.ts` (layouts render
 * synchronously, so the counts are read before rendering). Server only.
 * @module
 */
import type { State } from "../lib/state.ts";
import { hasHelpdesk } from "../lib/db/users.ts";
import { type InboxCounts, inboxCounts } from "../lib/db/inbox.ts";

const navData = new WeakMap<State, InboxCounts>();

/** Load the signed-in user's inbox counts for the badge (skipped without helpdesk access). */
export async function loadNav(state: State): Promise<void> {
  if (!state.user || !hasHelpdesk(state.user)) return;
  navData.set(state, await inboxCounts(state.svc.kv, state.user.id));
}

/** The counts loaded for this request, if any. */
export function navCounts(state: State): InboxCounts | null {
  return navData.get(state) ?? null;
}
