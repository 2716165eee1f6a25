// Port range strings of the settings file: "N" or "A-B", inclusive.

export interface PortRange {
  from: number;
  to: number;
}

const RANGE = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/;

/** Parses "N" or "A-B"; returns the rule it breaks instead of throwing (`ports[0] must be <rule> (got "x")`). */
export function parseRange(text: string): PortRange | string {
  const match = RANGE.exec(text);
  if (!match) return 'a port "N" or a port range "A-B"';
  const from = Number(match[1]);
  const to = match[2] === undefined ? from : Number(match[2]);
  for (const port of [from, to]) {
    if (port < 1 || port > 65535) return `${match[2] === undefined ? "a port" : "a port range"} within 1-65535`;
  }
  if (from > to) return 'a port range "A-B" with A not above B';
  return { from, to };
}

/** Formats a range back as the settings file writes it. */
export function formatRange(range: PortRange): string {
  return range.from === range.to ? String(range.from) : `${range.from}-${range.to}`;
}
