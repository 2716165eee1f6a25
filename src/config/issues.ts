// Turns a valibot issue into the sentence a person reads: the field, the rule it breaks and what was given.
import * as v from "valibot";

/**
 * `maxconnections must be a whole number from 0 to 10000 (got 1.5)`, or `broker is missing; it must
 * be a port number from 1 to 65535`. The schema's messages are the rules ("a whole number from 0 to
 * 10000"); `root` names the value itself when the issue has no path. No final full stop.
 */
export function describeIssue(issue: v.BaseIssue<unknown> | undefined, root = "the value"): string {
  if (issue === undefined) return `${root} is not valid`;
  const field = fieldPath(issue) || root;
  if (issue.input === undefined && issue.received === "undefined") return `${field} is missing; it must be ${issue.message}`;
  return `${field} must be ${issue.message} (got ${shown(issue.input)})`;
}

/** A given value as the message shows it: JSON, cut short past 40 characters. */
export function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** "mappings[3].port1" from the issue's path. */
export function fieldPath(issue: v.BaseIssue<unknown>): string {
  let out = "";
  for (const item of issue.path ?? []) {
    const key = (item as { key: unknown }).key;
    out += typeof key === "number" ? `[${key}]` : out === "" ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** The rule a field's schema states for a value that is not there (its first message). */
function ruleOf(schema: v.GenericSchema): string {
  const result = v.safeParse(schema, undefined);
  return result.success ? "given" : result.issues[0].message;
}

/**
 * A v.object whose issues read as rules: a missing field is reported with that field's own rule,
 * anything that is not an object with `what` ("a JSON object").
 */
export function record<const E extends v.ObjectEntries>(entries: E, what: string) {
  return v.object(entries, (issue) => {
    const key = issue.path?.at(-1)?.key;
    const entry = typeof key === "string" ? entries[key] : undefined;
    return entry === undefined ? what : ruleOf(entry as v.GenericSchema);
  });
}
