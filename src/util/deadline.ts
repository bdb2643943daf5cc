/** Thrown when an operation did not settle before its deadline. */
export class DeadlineError extends Error {
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${what} did not answer within ${ms} ms`);
    this.name = 'DeadlineError';
  }
}

/**
 * Settles with the promise, or rejects with {@link DeadlineError} after `ms`.
 * The clients have deadlines of their own; this is the guarantee that holds
 * even if one of them stalls outside its request (a body that never ends,
 * a DNS lookup, a bug), because a caller on the line cannot wait for that.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(what, ms)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
