/**
 * Configuration as an operator meets it, through the real `zaqar-ts` process: an
 * invalid option (in the file, the environment or a flag) stops the start with exit
 * code 1 and a message naming the option; `zaqar-ts config` prints the effective
 * configuration, with the environment winning over the file, flags over both, and
 * secrets redacted.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { OpsProcess } from './ops-process.js';

let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zaqar-ts-config-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function configFile(name: string, options: Record<string, unknown>): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, JSON.stringify(options));
  return path;
}

async function failedStart(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const child = OpsProcess.spawn(['serve', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data'), ...args], env);
  const exit = await child.exit(30_000);
  return { code: exit.code, output: child.output };
}

describe('zaqar-ts serve refuses invalid configuration', () => {
  test('a bad value in the config file names the option', async () => {
    const path = await configFile('bad-value.json', { max_claim_ttl: -5 });
    const { code, output } = await failedStart(['--config', path]);
    expect(code).toBe(1);
    expect(output).toContain('option max_claim_ttl must be a positive integer, got -5');
    expect(output).not.toContain('listening on');
  });

  test('an unknown option in the config file is named', async () => {
    const path = await configFile('unknown.json', { max_claim_tll: 60 });
    const { code, output } = await failedStart(['--config', path]);
    expect(code).toBe(1);
    expect(output).toContain('unknown option "max_claim_tll"');
  });

  test('a bad value in the environment names the option', async () => {
    const { code, output } = await failedStart([], { ZAQAR_DEFAULT_MESSAGE_TTL: 'an hour' });
    expect(code).toBe(1);
    expect(output).toContain('option default_message_ttl must be a positive integer, got "an hour"');
  });

  test('a bad flag names the option', async () => {
    const { code, output } = await failedStart(['--metrics-listen', 'nowhere']);
    expect(code).toBe(1);
    expect(output).toContain('option metrics_listen must be HOST:PORT, got "nowhere"');
  });

  test('an unknown log level names log_level and the allowed levels', async () => {
    const { code, output } = await failedStart(['--log-level', 'loud']);
    expect(code).toBe(1);
    expect(output).toContain('option log_level must be one of debug, info, warn, error, silent, got "loud"');
  });

  test('inconsistent options name the one to fix', async () => {
    const path = await configFile('inconsistent.json', { default_claim_ttl: 600, max_claim_ttl: 300 });
    const { code, output } = await failedStart(['--config', path]);
    expect(code).toBe(1);
    expect(output).toContain('option default_claim_ttl must lie between 60 and max_claim_ttl');
  });
});

describe('zaqar-ts config', () => {
  test('a string option from the environment keeps its text, even when it looks like a number', async () => {
    const child = OpsProcess.spawn(['config'], { ZAQAR_SIGNED_URL__SECRET_KEY: '12345', ZAQAR_ADMIN_MODE: 'true' });
    const exit = await child.exit(30_000);
    expect(exit.code, child.output).toBe(0);
    expect(JSON.parse(child.output)).toMatchObject({ 'signed_url.secret_key': '<redacted>', admin_mode: true });
  });

  test('prints the effective configuration: env over file, flags over env, secrets redacted', async () => {
    const path = await configFile('effective.json', {
      max_messages_post_size: 1000,
      default_message_ttl: 600,
      log_level: 'warn',
      signed_url: { secret_key: 'do-not-print-me' },
    });
    const child = OpsProcess.spawn(['config', '--config', path, '--log-level', 'debug'], {
      ZAQAR_MAX_MESSAGES_POST_SIZE: '2000',
      ZAQAR_MAX_CLAIM_TTL: '900',
      ZAQAR_LISTEN: '0.0.0.0:9999',
    });
    const exit = await child.exit(30_000);
    expect(exit.code, child.output).toBe(0);
    expect(child.output).not.toContain('do-not-print-me');
    const printed = JSON.parse(child.output) as Record<string, unknown>;
    expect(printed).toMatchObject({
      listen: '0.0.0.0:9999',
      max_messages_post_size: 2000,
      default_message_ttl: 600,
      max_claim_ttl: 900,
      log_level: 'debug',
      'signed_url.secret_key': '<redacted>',
      drain_timeout_seconds: 30,
    });
  });
});
