/**
 * A tiny reading of cockroachdb's datadriven format (as etcd's raft tests use it): a
 * script is a list of cases, each a command line, optional input lines, a `----`
 * separator and the expected output, cases separated by blank lines; `#` lines are
 * comments. `runScript` compares every output with the expected text, or rewrites the
 * file in place when REWRITE=1 so the change can be reviewed as a diff.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export interface CommandArgs {
  /** Words without `=`. */
  readonly positional: readonly string[];
  /** `key=value` and `key=(a,b,c)` arguments, values split on commas. */
  readonly named: ReadonlyMap<string, readonly string[]>;
}

export interface ScriptCase {
  readonly line: number;
  readonly command: string;
  readonly commandLine: string;
  readonly args: CommandArgs;
  readonly input: readonly string[];
  readonly expected: string;
}

interface Chunk {
  readonly prefix: readonly string[];
  readonly scriptCase: ScriptCase;
}

export function parseArgs(words: readonly string[]): CommandArgs {
  const positional: string[] = [];
  const named = new Map<string, readonly string[]>();
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq < 0) {
      positional.push(word);
      continue;
    }
    const raw = word.slice(eq + 1);
    const inner = raw.startsWith('(') && raw.endsWith(')') ? raw.slice(1, -1) : raw;
    named.set(word.slice(0, eq), inner === '' ? [] : inner.split(','));
  }
  return { positional, named };
}

function parseScript(text: string): { chunks: Chunk[]; trailer: string } {
  const lines = text.split('\n');
  const chunks: Chunk[] = [];
  let prefix: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    if (line.trim() === '' || line.startsWith('#')) {
      prefix.push(line);
      i++;
      continue;
    }
    const start = i + 1;
    const commandLine = line;
    i++;
    const input: string[] = [];
    while (i < lines.length && lines[i] !== '----') input.push(lines[i++] ?? '');
    i++;
    const expected: string[] = [];
    while (i < lines.length && (lines[i] ?? '') !== '') expected.push(lines[i++] ?? '');
    const words = commandLine.trim().split(/\s+/);
    chunks.push({
      prefix,
      scriptCase: { line: start, command: words[0] ?? '', commandLine, args: parseArgs(words.slice(1)), input, expected: expected.join('\n') },
    });
    prefix = [];
  }
  return { chunks, trailer: prefix.join('\n') };
}

/** Runs every case through `run`; returns the mismatches (none when rewriting). */
export function runScript(path: string, run: (scriptCase: ScriptCase) => string): string[] {
  const { chunks, trailer } = parseScript(readFileSync(path, 'utf8'));
  const isRewrite = process.env.REWRITE === '1';
  const mismatches: string[] = [];
  const rewritten: string[] = [];
  for (const { prefix, scriptCase } of chunks) {
    const actual = run(scriptCase).replace(/\n+$/, '');
    if (!isRewrite && actual !== scriptCase.expected) {
      mismatches.push(`${path}:${scriptCase.line}: ${scriptCase.commandLine}\n--- expected\n${scriptCase.expected}\n--- actual\n${actual}`);
    }
    const body = [scriptCase.commandLine, ...scriptCase.input, '----', ...(actual === '' ? [] : [actual])].join('\n');
    rewritten.push([...prefix, body].join('\n'));
  }
  if (isRewrite) writeFileSync(path, `${rewritten.join('\n')}\n${trailer}`.replace(/\n+$/, '\n'));
  return mismatches;
}
