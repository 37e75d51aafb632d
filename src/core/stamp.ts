// Backing-file stamps are read in ffi/stat.ts (statx with nanoseconds),
// shared with the scanner so recorded and observed stamps agree in
// precision; they are compared by the one rule of src/model/stamp.ts.
export {
  BackingIoError,
  type BackingStamp,
  type FileFacts,
  fstatFile,
  fstatStamp,
  nativeStamps,
  statStamp,
} from "../../ffi/stat.ts";
export { sameContent, stampsMatch } from "../model/mod.ts";
