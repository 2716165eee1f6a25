// Reading a file that may be missing or unreadable, where that only means "not known here".
import { readFileSync } from "node:fs";

/** The file's text, or undefined when it cannot be read (no /proc, no certificate yet, ...). */
export function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
