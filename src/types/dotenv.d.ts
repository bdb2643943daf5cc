// dotenv 6 (the version twilio-run parses `.env` with) ships no types.
declare module 'dotenv' {
  export function parse(src: string): Record<string, string>;
}
