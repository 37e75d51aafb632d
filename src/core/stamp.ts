// Backing-file stamps live in ffi/stat.ts (statx with nanoseconds), shared
// with the scanner so recorded and observed stamps agree in precision.
export {
  BackingIoError,
  type BackingStamp,
  fstatStamp,
  nativeStamps,
  stampsMatch,
  statStamp,
} from "../../ffi/stat.ts";
