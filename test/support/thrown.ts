// What a call threw, for assertions on the error itself; undefined when it returned.
export function thrown(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  return undefined;
}
