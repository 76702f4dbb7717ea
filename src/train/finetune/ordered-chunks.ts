/**
 * Runs a batch's chunks with up to `slots` in flight and hands each result on in chunk order.
 * A slot (e.g. a gradient buffer) is held from its chunk's start until its result was consumed,
 * so consuming in order (adding chunk gradients 0, 1, 2, ... into one buffer) gives the same sum
 * whatever the number of slots. When a chunk fails, the chunks in flight finish before the error
 * goes on, so no slot is still being written afterwards.
 */
export async function runChunksInOrder<R>(
  count: number,
  slots: number,
  run: (chunk: number, slot: number) => Promise<R>,
  consume: (chunk: number, result: R, slot: number) => void,
): Promise<void> {
  const free = Array.from({ length: Math.max(1, slots) }, (_, i) => i).reverse();
  const done = new Map<number, { result: R; slot: number }>();
  let started = 0;
  let consumed = 0;
  let running = 0;
  let failure: { error: unknown } | undefined;
  return new Promise<void>((resolve, reject) => {
    const settle = (): void => {
      if (running > 0) return;
      if (failure) reject(failure.error);
      else if (consumed === count) resolve();
    };
    const start = (): void => {
      while (!failure && started < count && free.length > 0) {
        const chunk = started++;
        const slot = free.pop()!;
        running++;
        run(chunk, slot).then(
          (result) => {
            running--;
            if (!failure) {
              done.set(chunk, { result, slot });
              try {
                for (let next = done.get(consumed); next; next = done.get(consumed)) {
                  done.delete(consumed);
                  consume(consumed, next.result, next.slot);
                  free.push(next.slot);
                  consumed++;
                }
              } catch (error) {
                failure = { error };
              }
            }
            start();
            settle();
          },
          (error: unknown) => {
            running--;
            failure ??= { error };
            settle();
          },
        );
      }
    };
    start();
    settle();
  });
}
