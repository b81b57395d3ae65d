/**
 * The sidebar's Inbox badge, `unread/total`, kept current by `inbox` events on the page's
 * shared live socket (the server sends one on every connect, so a reconnect resyncs it).
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { live } from "../lib/live/client.ts";

/** Props: the counts the server rendered with (null when unknown). */
export interface InboxBadgeProps {
  unread: number | null;
  total: number | null;
}

export default function InboxBadge(props: InboxBadgeProps) {
  const counts = useSignal({ unread: props.unread, total: props.total });
  useEffect(() => {
    return live().on("inbox", (ev) => {
      const unread = Number(ev.unread), total = Number(ev.total);
      if (Number.isFinite(unread) && Number.isFinite(total)) counts.value = { unread, total };
    });
  }, []);
  const { unread, total } = counts.value;
  if (unread === null || total === null) {
    return <span class="badge badge-empty" data-badge="inbox" aria-hidden="true"></span>;
  }
  return (
    <span
      class={`badge${unread > 0 ? " badge-unread" : ""}`}
      data-badge="inbox"
      title={`${unread} unread of ${total} open Inbox tickets`}
    >
      {`${unread}/${total}`}
    </span>
  );
}
