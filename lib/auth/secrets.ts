/**
 * Encryption at rest for mail passwords and OAuth refresh tokens: AES-256-GCM with a key derived
 * (HKDF-SHA-256) from WARMDESK_SECRET, or from a random secret generated once and kept in KV.
 */
import { keys } from "../db/keys.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function b64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
function unb64(s: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

/** Seal and open small secrets. */
export interface Vault {
  seal(plain: string): Promise<string>;
  open(sealed: string): Promise<string>;
}

/** Load WARMDESK_SECRET or the generated secret kept in KV (created on first boot). */
export async function loadSecret(kv: Deno.Kv, configured?: string): Promise<string> {
  if (configured) return configured;
  for (;;) {
    const cur = await kv.get<string>(keys.secretKey());
    if (cur.value) return cur.value;
    const fresh = b64(crypto.getRandomValues(new Uint8Array(32)));
    const res = await kv.atomic().check(cur).set(keys.secretKey(), fresh).commit();
    if (res.ok) return fresh;
  }
}

/** Build a vault from a secret string. */
export async function createVault(secret: string): Promise<Vault> {
  const base = await crypto.subtle.importKey("raw", enc.encode(secret), "HKDF", false, [
    "deriveKey",
  ]);
  const key = await crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: enc.encode("warmdesk"), info: enc.encode("vault v1") },
    base,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
  return {
    async seal(plain) {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const ct = new Uint8Array(
        await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, enc.encode(plain)),
      );
      return `v1:${b64(iv)}:${b64(ct)}`;
    },
    async open(sealed) {
      const [v, iv, ct] = sealed.split(":");
      if (v !== "v1" || !iv || !ct) throw new Error("sealed value has an unknown format");
      const pt = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: unb64(iv) },
        key,
        unb64(ct),
      );
      return dec.decode(pt);
    },
  };
}
