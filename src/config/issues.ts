// Turns a valibot issue into the one sentence a person reads: which field, and what is wrong with it.
import type { BaseIssue } from "valibot";

/** `field "ports[2]": port 70000 in "70000" is outside 1-65535` */
export function describeIssue(issue: BaseIssue<unknown> | undefined): string {
  if (issue === undefined) return "invalid";
  const path = fieldPath(issue);
  if (issue.kind === "schema" && issue.received === "undefined" && issue.input === undefined) {
    return path ? `field "${path}" is missing` : "is empty";
  }
  const message = issue.message;
  return path ? `field "${path}" ${message.startsWith("port") || message.startsWith('"') ? `is wrong: ${message}` : message}` : `must be a JSON object (${message})`;
}

/** "mappings[3].port1" from the issue's path. */
export function fieldPath(issue: BaseIssue<unknown>): string {
  let out = "";
  for (const item of issue.path ?? []) {
    const key = (item as { key: unknown }).key;
    out += typeof key === "number" ? `[${key}]` : out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}
