/**
 * Mail that could not be imported (unparseable, too large), from
 * `GET /api/v1/admin/imap/failed`; hidden while that route does not exist. The record shape is
 * read loosely: time, sender, subject, size and error are shown when present.
 * @module
 */
import { useSignal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { api, ApiError, errorText } from "./api.ts";
import { bytes, fullTime } from "./format.ts";

type Rec = Record<string, unknown>;

function pick(r: Rec, ...keys: string[]): string | null {
  for (const k of keys) {
    const v = r[k];
    if (typeof v === "string" && v) return v;
  }
  return null;
}

/** `version` changes re-fetch the list (after a poll). */
export function FailedMail(props: { version: number }) {
  const items = useSignal<Rec[] | null>(null);
  const error = useSignal<string | null>(null);
  useEffect(() => {
    api<Rec | Rec[]>("GET", "/api/v1/admin/imap/failed").then((res) => {
      const list = Array.isArray(res)
        ? res
        : (Object.values(res ?? {}).find(Array.isArray) as Rec[] | undefined) ?? [];
      items.value = list;
      error.value = null;
    }).catch((err) => {
      if (err instanceof ApiError && (err.status === 404 || err.status === 405)) return;
      error.value = errorText(err);
    });
  }, [props.version]);

  if (error.value) {
    return <p class="alert alert-error">Could not list failed mail: {error.value}</p>;
  }
  const list = items.value;
  if (!list) return null;
  return (
    <div class="failed-mail" data-failed-mail="">
      <h3 class="subhead">Mail that could not be imported</h3>
      {list.length === 0 ? <p class="muted">None.</p> : (
        <ul class="failed-list">
          {list.map((r, i) => {
            const at = pick(r, "at", "received_at", "created_at", "failed_at");
            const size = typeof r.size === "number" ? r.size : null;
            return (
              <li key={String(r.id ?? i)}>
                <div class="failed-head">
                  <strong>{pick(r, "subject") ?? "(no subject)"}</strong>
                  <span class="muted small">
                    {[
                      pick(r, "from", "sender"),
                      at ? fullTime(at) : null,
                      size ? bytes(size) : null,
                    ]
                      .filter(Boolean).join(" · ")}
                  </span>
                </div>
                <p class="error-text small">{pick(r, "error", "reason") ?? "Unknown error"}</p>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
