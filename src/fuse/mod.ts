// Public API of the FUSE server: prepare a mountpoint, then mount a Library
// and serve it until it is unmounted or the process is signalled.
export {
  mountAndServe,
  type MountAndServeOptions,
  type ReadyInfo,
  serve,
  type ServeOptions,
} from "./server.ts";
export { prepareMountpoint } from "./session.ts";
export { notifyServiceManager } from "./sd_notify.ts";
export { MAX_READ, SERVE_DEFAULTS } from "./defaults.ts";
