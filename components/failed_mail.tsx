/**
 * Mail that could not be imported (unparseable, too large, not storable), from
 * `GET /api/v1/admin/imap/failed`: when, sender, subject, size and the error, with a link to the
 * raw copy kept (`GET …/failed/:id`) and Dismiss (`DELETE …/failed/:id`).
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api, ApiError, errorText } from "./api.ts";
import { bytes, fullTime } from "./format.ts";

/** One failed mail as the API lists it. */
export interface FailedMailItem {
  id: string;
  at: string;
  kind: string;
  error: string;
  size: number;
  subject: string | null;
  from: string | null;
  message_id: string | null;
  mailbox: string;
  raw_available: boolean;
}

const KINDS: Record<string, string> = {
  unparseable: "Could not be parsed",
  too_large: "Too large",
  store_failed: "Could not be stored",
};

/** `version` changes re-fetch the list (after a poll). */
export function FailedMail(props: { version: number }) {
  const items = useSignal<FailedMailItem[] | null>(null);
  const error = useSignal<string | null>(null);
  useEffect(() => {
    api<{ failed: FailedMailItem[] }>("GET", "/api/v1/admin/imap/failed").then((res) => {
      items.value = Array.isArray(res?.failed) ? res.failed : [];
      error.value = null;
    }).catch((err) => {
      // an older server without the route: nothing to show
      if (err instanceof ApiError && (err.status === 404 || err.status === 405)) return;
      error.value = errorText(err);
    });
  }, [props.version]);

  const dismiss = async (id: string) => {
    try {
      await api("DELETE", `/api/v1/admin/imap/failed/${encodeURIComponent(id)}`);
      items.value = (items.peek() ?? []).filter((i) => i.id !== id);
    } catch (err) {
      error.value = errorText(err);
    }
  };

  const list = items.value;
  return (
    <div class="failed-mail" data-failed-mail="">
      {list || error.value ? <h3 class="subhead">Mail that could not be imported</h3> : null}
      {error.value
        ? <p class="alert alert-error">Could not list failed mail: {error.value}</p>
        : null}
      {!list ? null : list.length === 0 ? <p class="muted">None.</p> : (
        <ul class="failed-list">
          {list.map((r) => (
            <li key={r.id}>
              <div class="failed-head">
                <strong>{r.subject || "(no subject)"}</strong>
                <span class="muted small">
                  {[r.from, fullTime(r.at), bytes(r.size), KINDS[r.kind] ?? r.kind]
                    .filter(Boolean).join(" · ")}
                </span>
              </div>
              <p class="error-text small">{r.error}</p>
              <div class="row small">
                {r.raw_available
                  ? (
                    <a href={`/api/v1/admin/imap/failed/${encodeURIComponent(r.id)}`}>
                      Download the raw mail
                    </a>
                  )
                  : <span class="muted">No raw copy kept</span>}
                <button type="button" class="link-button" onClick={() => dismiss(r.id)}>
                  Dismiss
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
