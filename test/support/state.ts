// What the daemon keeps on the disk: configs.json and its journal, read as a test compares them.
import { readFileSync } from "node:fs";
import { journalPathOf, loadState } from "../../src/store/journal.ts";
import { toRecord, type StateRecord } from "../../src/store/schema.ts";

const readOr = (path: string) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
};

/** Both files' text: equal before and after a request means the request wrote nothing. */
export function stateOnDisk(stateFile: string): string {
  return `${readOr(stateFile)}\n--- journal ---\n${readOr(journalPathOf(stateFile))}`;
}

/** The records as they would be written: configs.json with its journal replayed. */
export function storedRecords(stateFile: string): StateRecord[] {
  return loadState(stateFile).map(toRecord);
}
