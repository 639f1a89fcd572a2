export function corpusGlob(dir: string): string;
export function findingKey(d: {
  file: string;
  ruleId: string;
  start: { line: number; column: number };
}): string;
export function verdictLine(key: string, verdict: string, reason: string): string;
export function readVerdicts(dir: string): Map<string, { verdict: string; reason: string }>;
