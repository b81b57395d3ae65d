/**
 * Registers the subsystems every WarmDesk process runs. Imported by main.ts and by tests that
 * want the full app; each module pushes its factory into SUBSYSTEMS when imported.
 */
import "./queue.ts";
import "./mail/outbound.ts";
import "./live/mod.ts";
import "./mail/scheduler.ts";
import "./mail/oauth2_subsystem.ts";
