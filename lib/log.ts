/**
 * Structured logging: one JSON object per line on stderr, with a level and a scope.
 * Values under keys that look secret are masked, so a careless caller cannot leak a token.
 */

export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY =
  /pass(word)?|secret|token|authorization|cookie|refresh|access_token|code_verifier/i;

let minLevel: Level = (Deno.env.get("WARMDESK_LOG_LEVEL") as Level | undefined) ?? "info";
if (!(minLevel in ORDER)) minLevel = "info";

/** Where log lines go; tests swap it to capture lines and assert nothing secret is logged. */
export let sink: (line: string) => void = (line) => console.error(line);

/** Replace the log sink (tests) and return a function that restores the previous one. */
export function setLogSink(fn: (line: string) => void): () => void {
  const prev = sink;
  sink = fn;
  return () => {
    sink = prev;
  };
}

/** Set the lowest level written. */
export function setLogLevel(level: Level) {
  minLevel = level;
}

function redact(value: unknown, depth = 0): unknown {
  if (depth > 4 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) && typeof v === "string" && v !== "" ? "***" : redact(v, depth + 1);
  }
  return out;
}

/** A logger bound to a scope ("http", "imap", "smtp", ...). */
export function logger(scope: string) {
  const write = (level: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < ORDER[minLevel]) return;
    const rec = {
      t: new Date().toISOString(),
      level,
      scope,
      msg,
      ...(redact(fields ?? {}) as object),
    };
    sink(JSON.stringify(rec));
  };
  return {
    debug: (msg: string, f?: Record<string, unknown>) => write("debug", msg, f),
    info: (msg: string, f?: Record<string, unknown>) => write("info", msg, f),
    warn: (msg: string, f?: Record<string, unknown>) => write("warn", msg, f),
    error: (msg: string, f?: Record<string, unknown>) => write("error", msg, f),
  };
}
export type Logger = ReturnType<typeof logger>;
