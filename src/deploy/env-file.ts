/**
 * `.env` read exactly as the deploy uploads it. twilio-run (and the Twilio
 * CLI's serverless plugin, which bundles its own twilio-run) parse it with
 * dotenv 6, which keeps an inline `# comment` as part of the value, strips
 * one quote from either end independently, and skips lines that are not
 * `KEY=VALUE`. The deploy then drops empty values, ACCOUNT_SID and AUTH_TOKEN
 * (twilio-run `filterEnvVariablesForDeploy`). Every operator-side tool reads
 * `.env` through here, so what they check is what Twilio will hold.
 */
import dotenv from 'dotenv';
import { existsSync, readFileSync } from 'node:fs';

export interface EnvFile {
  /** Every key with its value as dotenv 6 reads it (empty values included). */
  values: Record<string, string>;
  /** Values that the deploy would upload in a form their author did not mean. */
  misread: { variable: string; message: string }[];
  /** 1-based numbers of lines the deploy skips without a word. */
  skippedLines: number[];
}

// dotenv 6's own pattern for a KEY=VALUE line.
const LINE = /^\s*([\w.-]+)\s*=\s*(.*)?\s*$/;

export function parseEnvText(text: string): EnvFile {
  const values = dotenv.parse(text) as Record<string, string>;
  const misread: EnvFile['misread'] = [];
  const skippedLines: number[] = [];
  text.split('\n').forEach((line, index) => {
    const match = LINE.exec(line);
    if (!match) {
      if (line.trim() && !line.trim().startsWith('#')) skippedLines.push(index + 1);
      return;
    }
    const variable = match[1]!;
    const raw = (match[2] ?? '').trim();
    const quote = raw[0] === '"' || raw[0] === "'" ? raw[0] : '';
    if (quote) {
      if (raw.length < 2 || raw[raw.length - 1] !== quote) {
        misread.push({
          variable,
          message: 'has an opening quote without a matching closing quote (a comment after a quoted value is kept too)',
        });
      }
    } else if (/\s#/.test(raw)) {
      misread.push({
        variable,
        message: 'has an inline "# comment", which the deploy keeps as part of the value: put the comment on its own line',
      });
    } else if (/['"]$/.test(raw)) {
      misread.push({ variable, message: 'ends with a quote that does not open the value' });
    }
  });
  return { values, misread, skippedLines };
}

/** Reads a `.env` file; undefined when it does not exist. */
export function readEnvFile(file: string): EnvFile | undefined {
  if (!existsSync(file)) return undefined;
  return parseEnvText(readFileSync(file, 'utf8'));
}

/** Keys the deploy never uploads: the runtime supplies them itself. */
export const NOT_UPLOADED = ['ACCOUNT_SID', 'AUTH_TOKEN'] as const;

/** The Variables the deploy creates or updates on Twilio. */
export function uploadedVariables(values: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value.length === 0 || (NOT_UPLOADED as readonly string[]).includes(key)) continue;
    out[key] = value;
  }
  return out;
}
