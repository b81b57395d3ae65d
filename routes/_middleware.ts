import { define } from "../lib/state.ts";
import { securityMiddleware } from "../lib/http/security.ts";
import { sessionGuard } from "../lib/auth/guard.ts";

export const handler = define.middleware([securityMiddleware, sessionGuard]);
