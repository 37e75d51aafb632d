// systemd readiness notification (sd_notify(3)): with `Type=notify` the
// service manager passes a unix datagram socket in NOTIFY_SOCKET and waits
// for "READY=1" before it starts units ordered after the mount; "STOPPING=1"
// tells it the shutdown has begun. Without NOTIFY_SOCKET this does nothing.

import { sendUnixDatagram } from "../../ffi/libc.ts";
import { type ServerLog, silentLog } from "./log.ts";

const enc = new TextEncoder();

/**
 * Send `state` (newline-separated `KEY=value` lines) to the service
 * manager. Never throws: a failure is logged and serving goes on.
 */
export function notifyServiceManager(
  state: string,
  log: ServerLog = silentLog,
  socket: string | undefined = Deno.env.get("NOTIFY_SOCKET"),
): boolean {
  if (socket === undefined || socket === "") return false;
  try {
    sendUnixDatagram(socket, enc.encode(state));
    return true;
  } catch (e) {
    log.warn(`could not notify the service manager at ${socket}: ${(e as Error).message}`);
    return false;
  }
}
