/**
 * The first check of a call-control request, before the token and before
 * anything recursive touches the body: the runtime has already parsed the
 * JSON, so a body nested thousands of levels deep, or holding megabytes,
 * reaches the function as a value. It is walked here without recursion and
 * refused by size alone; what the values mean is checked later (./request).
 */

/** Objects or arrays inside the request object: a request has one (`fields`). */
export const MAX_NESTING = 3;
/** Keys and values in all; a request has at most 15. */
export const MAX_VALUES = 100;
/** UTF-16 code units of every key and string; `message` is at most 1000 characters. */
export const MAX_TEXT = 32_768;

/** Why the body is too large to look at, or undefined. */
export function oversized(params: Record<string, unknown>): string | undefined {
  const stack: { value: unknown; depth: number }[] = [{ value: params, depth: 0 }];
  let values = 0;
  let text = 0;
  while (stack.length) {
    const { value, depth } = stack.pop()!;
    if (typeof value === 'string') text += value.length;
    if (value === null || typeof value !== 'object') continue;
    if (depth > MAX_NESTING) return `the request nests objects more than ${MAX_NESTING} levels deep`;
    for (const [key, item] of Object.entries(value)) {
      values += 1;
      text += key.length;
      if (values > MAX_VALUES) return `the request holds more than ${MAX_VALUES} values`;
      stack.push({ value: item, depth: depth + 1 });
    }
    if (text > MAX_TEXT) return `the request holds more than ${MAX_TEXT} characters`;
  }
  return text > MAX_TEXT ? `the request holds more than ${MAX_TEXT} characters` : undefined;
}
