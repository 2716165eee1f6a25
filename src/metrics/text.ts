// Pieces of the Prometheus text exposition format (version 0.0.4) shared by the metric families.

export const P = "iofog_connector";

/** One family: HELP, TYPE and its sample lines (each the part after the name: `{labels} value` or ` value`). */
export function family(name: string, type: string, help: string, samples: Iterable<string>): string {
  let out = `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
  for (const sample of samples) out += `${name}${sample}\n`;
  return out;
}

const SPECIAL = /[\\"\n]/;

/** A label value with backslash, double quote and newline escaped. */
export function labelValue(value: string): string {
  return SPECIAL.test(value) ? value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n") : value;
}
