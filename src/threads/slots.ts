// Which shared slots of one relay thread are in use: a free list, so that closed mappings' slots are used again.

export interface Slots {
  take(): number;
  give(slot: number): void;
}

/** `used`: slots already held (a thread started again keeps its mappings' slots). */
export function createSlots(used: readonly number[] = []): Slots {
  let next = used.reduce((most, slot) => Math.max(most, slot + 1), 0);
  const taken = new Set(used);
  const free: number[] = [];
  for (let slot = 0; slot < next; slot++) if (!taken.has(slot)) free.push(slot);
  return {
    take: () => free.pop() ?? next++,
    give: (slot) => void free.push(slot),
  };
}
