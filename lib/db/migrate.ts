/**
 * Schema migrations run at boot, like GORM's AutoMigrate in the original: no manual step on
 * upgrade. Each migration moves the schema version key by one, in its own commit.
 */
import { keys } from "./keys.ts";
import { logger } from "../log.ts";

const log = logger("migrate");

/** A migration: runs once, from version `to - 1` to `to`. */
export interface Migration {
  to: number;
  name: string;
  run: (kv: Deno.Kv) => Promise<void>;
}

/** The list grows at the end; never edit a released entry. */
export const MIGRATIONS: Migration[] = [
  { to: 1, name: "initial schema", run: () => Promise.resolve() },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].to;

/** Bring the store to SCHEMA_VERSION. Refuses a store written by a newer WarmDesk. */
export async function migrate(kv: Deno.Kv, migrations = MIGRATIONS): Promise<number> {
  for (;;) {
    const cur = await kv.get<number>(keys.schemaVersion());
    const version = cur.value ?? 0;
    const target = migrations[migrations.length - 1]?.to ?? 0;
    if (version > target) {
      throw new Error(`the KV store has schema ${version}, newer than this WarmDesk (${target})`);
    }
    const next = migrations.find((m) => m.to === version + 1);
    if (!next) return version;
    await next.run(kv);
    const res = await kv.atomic().check(cur).set(keys.schemaVersion(), next.to).commit();
    if (res.ok) log.info("migrated", { to: next.to, name: next.name });
  }
}
