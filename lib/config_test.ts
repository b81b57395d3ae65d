import { deepStrictEqual, strictEqual, throws } from "node:assert/strict";
import {
  buildConfig,
  ConfigError,
  DEFAULT_MAX_MESSAGE_BYTES,
  loadConfig,
  missingOAuth2Keys,
} from "./config.ts";

const noEnv = () => undefined;

Deno.test("[config] defaults match API.md when there is no file and no env", () => {
  const c = buildConfig({}, noEnv);
  strictEqual(c.port, 8000);
  strictEqual(c.kv_path, "./data/warmdesk.kv");
  strictEqual(c.base_url, "http://localhost:8000");
  strictEqual(c.max_message_bytes, DEFAULT_MAX_MESSAGE_BYTES);
  strictEqual(c.oauth2.google_token_url, "https://oauth2.googleapis.com/token");
  deepStrictEqual(missingOAuth2Keys(c.oauth2, "google"), [
    "oauth2.google_client_id",
    "oauth2.google_client_secret",
  ]);
});

Deno.test("[config] env wins over the file", () => {
  const env: Record<string, string> = {
    PORT: "9000",
    WARMDESK_KV_PATH: ":memory:",
    WARMDESK_MAX_MESSAGE_BYTES: "5000",
  };
  const c = buildConfig({
    port: 7000,
    kv_path: "x.kv",
    max_message_bytes: 4000,
    base_url: "https://h.example/",
  }, (k) => env[k]);
  strictEqual(c.port, 9000);
  strictEqual(c.kv_path, ":memory:");
  strictEqual(c.max_message_bytes, 5000);
  strictEqual(c.base_url, "https://h.example");
});

Deno.test("[config] bad values are refused with a message naming the key", () => {
  throws(
    () => buildConfig({ port: "http" }, noEnv),
    (e) => e instanceof ConfigError && /port/.test(e.message),
  );
  throws(() => buildConfig({}, (k) => (k === "PORT" ? "70000" : undefined)), /PORT/);
  throws(() => buildConfig({ base_url: "not a url" }, noEnv), /base_url/);
  throws(() => buildConfig({ oauth2: { google_client_id: ["x"] } }, noEnv), /google_client_id/);
});

Deno.test("[config] loadConfig reads the YAML file named by WARMDESK_CONFIG", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/w.yaml`;
    await Deno.writeTextFile(
      path,
      "port: 8123\noauth2:\n  google_client_id: abc\n  google_client_secret: def\n",
    );
    const c = await loadConfig((k) => (k === "WARMDESK_CONFIG" ? path : undefined));
    strictEqual(c.port, 8123);
    deepStrictEqual(missingOAuth2Keys(c.oauth2, "google"), []);
    await Deno.writeTextFile(path, "port: [unclosed");
    await loadConfig((k) => (k === "WARMDESK_CONFIG" ? path : undefined)).then(
      () => {
        throw new Error("should fail");
      },
      (e) => strictEqual(e instanceof ConfigError, true),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
