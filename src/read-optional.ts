// Reading a file that may be missing or unreadable, where that only means "not known here".
import { readRegular } from "./regular-file.ts";

/** The file's text, or undefined when it cannot be read or is not a regular file (no /proc, no certificate yet, ...). */
export function readOptional(path: string): string | undefined {
  try {
    return readRegular(path); // a FIFO or a directory is as unknown as a missing file, and never blocks
  } catch {
    return undefined;
  }
}
