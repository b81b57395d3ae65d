/**
 * Labelled form controls for the settings islands: text/number/password inputs, selects and
 * switches bound to a record of values, with the field the server named in a 422 marked
 * invalid and described by the error.
 * @module
 */
import type { Signal } from "@preact/signals";
import type { ComponentChildren } from "preact";

/** Values of a settings form, by field name. */
export type FormValues = Record<string, string | boolean>;

/** A 422's field and message. */
export interface FieldError {
  field: string;
  text: string;
}

/** The error line under an invalid field (ids tie it to the input). */
function FieldMessage(props: { id: string; error: FieldError | null | undefined; name: string }) {
  if (props.error?.field !== props.name) return null;
  return <span class="field-error" id={`${props.id}-error`}>{props.error.text}</span>;
}

function describedBy(id: string, hint: unknown, bad: boolean): string | undefined {
  const ids = [hint ? `${id}-hint` : "", bad ? `${id}-error` : ""].filter(Boolean);
  return ids.length ? ids.join(" ") : undefined;
}

/** Common props: the values signal, the field, the invalid field name. */
interface Base {
  values: Signal<FormValues>;
  name: string;
  label: ComponentChildren;
  hint?: ComponentChildren;
  /** The field the last server error named, and the error. */
  invalid?: FieldError | null;
  /** Id prefix so two forms on one page do not share ids. */
  idPrefix: string;
  disabled?: boolean;
}

function set(values: Signal<FormValues>, name: string, v: string | boolean) {
  values.value = { ...values.peek(), [name]: v };
}

/** A text-like input. */
export function TextField(
  props: Base & {
    type?: "text" | "number" | "password" | "email";
    placeholder?: string;
    autocomplete?: string;
    min?: number;
    max?: number;
  },
) {
  const id = `${props.idPrefix}-${props.name}`;
  const bad = props.invalid?.field === props.name;
  return (
    <label class="field" for={id}>
      <span class="label">{props.label}</span>
      <input
        id={id}
        name={props.name}
        type={(props.type ?? "text") as "text"}
        value={String(props.values.value[props.name] ?? "")}
        placeholder={props.placeholder}
        autocomplete={props.autocomplete ?? "off"}
        min={props.min}
        max={props.max}
        disabled={props.disabled}
        aria-invalid={bad ? "true" : undefined}
        aria-describedby={describedBy(id, props.hint, bad)}
        onInput={(e) => set(props.values, props.name, (e.currentTarget as HTMLInputElement).value)}
      />
      <FieldMessage id={id} error={props.invalid} name={props.name} />
      {props.hint ? <span class="hint" id={`${id}-hint`}>{props.hint}</span> : null}
    </label>
  );
}

/** A select from `[value, label]` pairs. */
export function SelectField(
  props: Base & { options: [string, string][]; onChange?: (v: string) => void },
) {
  const id = `${props.idPrefix}-${props.name}`;
  const bad = props.invalid?.field === props.name;
  return (
    <label class="field" for={id}>
      <span class="label">{props.label}</span>
      <select
        id={id}
        name={props.name}
        value={String(props.values.value[props.name] ?? "")}
        disabled={props.disabled}
        aria-invalid={bad ? "true" : undefined}
        aria-describedby={describedBy(id, props.hint, bad)}
        onChange={(e) => {
          const v = (e.currentTarget as HTMLSelectElement).value;
          set(props.values, props.name, v);
          props.onChange?.(v);
        }}
      >
        {
          // `selected` too: a select's value prop is not applied when the server renders or
          // hydrates it, only on later renders
          props.options.map(([v, l]) => (
            <option key={v} value={v} selected={v === String(props.values.value[props.name] ?? "")}>
              {l}
            </option>
          ))
        }
      </select>
      <FieldMessage id={id} error={props.invalid} name={props.name} />
      {props.hint ? <span class="hint" id={`${id}-hint`}>{props.hint}</span> : null}
    </label>
  );
}

/** An on/off switch (a checkbox with role="switch"). */
export function SwitchField(props: Base) {
  const id = `${props.idPrefix}-${props.name}`;
  const on = props.values.value[props.name] === true;
  const bad = props.invalid?.field === props.name;
  return (
    <div class="field field-switch">
      <label class="switch" for={id}>
        <input
          id={id}
          type="checkbox"
          role="switch"
          name={props.name}
          checked={on}
          disabled={props.disabled}
          aria-invalid={bad ? "true" : undefined}
          aria-describedby={describedBy(id, props.hint, bad)}
          onChange={(e) =>
            set(props.values, props.name, (e.currentTarget as HTMLInputElement).checked)}
        />
        <span class="switch-label">{props.label}</span>
      </label>
      <FieldMessage id={id} error={props.invalid} name={props.name} />
      {props.hint ? <span class="hint" id={`${id}-hint`}>{props.hint}</span> : null}
    </div>
  );
}

/** `"993"` -> 993; anything else is sent as typed so the server names the field. */
export function numberOrRaw(v: string | boolean | undefined): number | string {
  const s = String(v ?? "").trim();
  return /^\d{1,9}$/.test(s) ? Number(s) : s;
}

/** A result line under a form: ok (green), error (red) or info. */
export function Result(props: { kind: "ok" | "error" | "info"; children: ComponentChildren }) {
  const cls = props.kind === "ok" ? "alert-ok" : props.kind === "error" ? "alert-error" : "";
  return (
    <div class={`alert ${cls}`} role={props.kind === "error" ? "alert" : "status"}>
      {props.children}
    </div>
  );
}
