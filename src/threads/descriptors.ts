// The descriptor reserve across threads: each relay thread publishes how many connections it holds, and the control
// thread what it holds besides (listeners, API connections), so that every thread's gate (descriptors.ts) sees the
// whole process without asking another thread.
const CONTROL = 0;

/** Shared counts: slot 0 the control thread's descriptors in use, slot 1 + i relay thread i's open connections. */
export type DescriptorShare = Int32Array;

export function createDescriptorShare(threads: number): DescriptorShare {
  return new Int32Array(new SharedArrayBuffer((threads + 1) * Int32Array.BYTES_PER_ELEMENT));
}

export function publishControl(share: DescriptorShare, inUse: number): void {
  Atomics.store(share, CONTROL, inUse);
}

export function publishConnections(share: DescriptorShare, thread: number, connections: number): void {
  Atomics.store(share, 1 + thread, connections);
}

/** Open relayed connections over every thread, as last published. */
export function relayedConnections(share: DescriptorShare): number {
  let sum = 0;
  for (let i = 1; i < share.length; i++) sum += Atomics.load(share, i);
  return sum;
}

/** Descriptors in use beyond those open at start, seen from relay thread `thread` that holds `own` connections right now. */
export function inUseSeenBy(share: DescriptorShare, thread: number, own: number): number {
  return Atomics.load(share, CONTROL) + relayedConnections(share) - Atomics.load(share, 1 + thread) + own;
}
