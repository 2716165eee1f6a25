// Reads Prometheus text exposition into "name{labels}" → value, for assertions.
export function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/**
 * Scrapes `url` until `ready` holds for its samples (relay threads publish their counters every 250 ms), and
 * returns them; after `ms` it returns the last scrape, for the caller's assertions to describe.
 */
export async function scrapeWhen(url: string, ready: (samples: Map<string, number>) => boolean, ms = 5000): Promise<Map<string, number>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const samples = parseExposition(await fetch(url).then((r) => r.text()));
    if (ready(samples) || Date.now() > deadline) return samples;
    await Bun.sleep(20);
  }
}
