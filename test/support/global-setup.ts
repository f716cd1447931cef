/**
 * Builds dist/ once before any suite runs: black-box tests start the compiled
 * `zaqar-ts` command as a real process, exactly as users do. Type errors do not stop
 * the run here (tsc still emits, and CI type-checks as its own step); they are shown.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const result = spawnSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'tsconfig.build.json'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (result.status !== 0) {
    process.stderr.write(`warning: tsc reported errors while building dist/ for black-box tests:\n${result.stdout}`);
  }
}
