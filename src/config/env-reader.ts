/**
 * Small readers for environment values. Each reader records a problem that
 * names the variable instead of throwing, so a misconfiguration is reported
 * in one pass and never takes a call down with an exception.
 */

export type Env = Readonly<Record<string, unknown>>;

/** One thing wrong with the environment, naming the variable. */
export interface ConfigProblem {
  variable: string;
  message: string;
}

export class EnvReader {
  readonly problems: ConfigProblem[] = [];

  constructor(private readonly env: Env) {}

  /** The trimmed value, or '' when unset. */
  text(name: string): string {
    const value = this.env[name];
    return typeof value === 'string' ? value.trim() : '';
  }

  required(name: string): string {
    const value = this.text(name);
    if (!value) this.problem(name, 'is required');
    return value;
  }

  /** Comma-separated list; empty entries are dropped. */
  list(name: string): string[] {
    return this.text(name)
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  }

  flag(name: string, fallback: boolean): boolean {
    const value = this.text(name).toLowerCase();
    if (!value) return fallback;
    if (['true', '1', 'yes', 'on'].includes(value)) return true;
    if (['false', '0', 'no', 'off'].includes(value)) return false;
    this.problem(name, 'must be true or false');
    return fallback;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.text(name);
    if (!value) return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      this.problem(name, `must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return parsed;
  }

  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const value = this.text(name);
    if (!value) return fallback;
    if ((choices as readonly string[]).includes(value)) return value as T;
    this.problem(name, `must be one of: ${choices.join(', ')}`);
    return fallback;
  }

  problem(variable: string, message: string): void {
    this.problems.push({ variable, message });
  }
}

/** Problems as one line, for logs and error bodies (names only, never values). */
export function describeProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `${p.variable} ${p.message}`).join('; ');
}

/** A settings reader that also declares the variables it reads. */
export interface EnvRead<T> {
  (env: Env): T;
  readonly variables: readonly string[];
}

/**
 * Remembers the last result for the same values of `variables`. A warm
 * container sees the same environment on every call, so settings are parsed
 * once instead of per call (less work, and less garbage on the hot path).
 */
export function memoizedRead<T>(variables: readonly string[], read: (env: Env) => T): EnvRead<T> {
  let lastKey: string | undefined;
  let lastValue: T;
  const memo = (env: Env): T => {
    let key = '';
    for (const name of variables) {
      const value = env[name];
      key += `${typeof value === 'string' ? value : ''}\u0000`;
    }
    if (key !== lastKey) {
      lastValue = read(env);
      lastKey = key;
    }
    return lastValue;
  };
  return Object.assign(memo, { variables });
}
