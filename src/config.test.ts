/**
 * Config loading: defaults, Zaqar option names (flat or in sections), precedence of
 * flags over env over file, and start-up failures that name the offending option.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { loadConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'zaqar-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function fileWith(content: unknown): string {
  const path = join(dir, `c${++fileCount}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('loadConfig', () => {
  test('defaults to 127.0.0.1:8888, ./data and Zaqar limits', () => {
    const config = loadConfig({ flags: {}, env: {} });
    expect(config).toMatchObject({ host: '127.0.0.1', port: 8888, dataDir: './data' });
    expect(config.api.maxMessagesPostSizeBytes).toBe(262144);
    expect(config.api.signedUrlSecretKey).toBeUndefined();
  });

  test('reads flat and sectioned Zaqar option names; flags beat env beat the file', () => {
    const path = fileWith({ listen: '0.0.0.0:1', transport: { max_messages_post_size: 1000 }, signed_url: { secret_key: 'k' }, admin_mode: true });
    const fromFile = loadConfig({ flags: {}, env: { ZAQAR_CONFIG: path } });
    expect(fromFile).toMatchObject({ host: '0.0.0.0', port: 1 });
    expect(fromFile.api).toMatchObject({ maxMessagesPostSizeBytes: 1000, signedUrlSecretKey: 'k', adminMode: true });
    const fromEnv = loadConfig({ flags: { config: path }, env: { ZAQAR_LISTEN: '127.0.0.2:2', ZAQAR_DATA_DIR: '/env' } });
    expect(fromEnv).toMatchObject({ host: '127.0.0.2', port: 2, dataDir: '/env' });
    const fromFlags = loadConfig({ flags: { config: path, listen: '[::1]:3', 'data-dir': '/flag' }, env: { ZAQAR_LISTEN: '127.0.0.2:2' } });
    expect(fromFlags).toMatchObject({ host: '::1', port: 3, dataDir: '/flag' });
  });

  test('fails at start naming the bad option', () => {
    expect(() => loadConfig({ flags: { config: fileWith({ max_claim_ttl: -1 }) }, env: {} })).toThrow(/option max_claim_ttl must be a positive integer/);
    expect(() => loadConfig({ flags: { config: fileWith({ client_id_uuid_safe: 'loose' }) }, env: {} })).toThrow(/client_id_uuid_safe/);
    expect(() => loadConfig({ flags: { config: fileWith({ max_mesages_post_size: 1 }) }, env: {} })).toThrow(/unknown option "max_mesages_post_size"/);
    expect(() => loadConfig({ flags: { config: fileWith('{not json') }, env: {} })).toThrow(/not valid JSON/);
    expect(() => loadConfig({ flags: { listen: 'nohost' }, env: {} })).toThrow(/option listen must be HOST:PORT/);
    expect(() => loadConfig({ flags: { config: fileWith({ default_message_ttl: 30 }) }, env: {} })).toThrow(/default_message_ttl/);
    expect(() => loadConfig({ flags: { config: join(dir, 'missing.json') }, env: {} })).toThrow(/cannot read config file/);
  });

  test('reads the raft section\'s snapshot options into the cluster compaction policy', () => {
    const config = loadConfig({ flags: { config: fileWith({ raft: { snapshot_every_entries: 500, snapshot_tail_entries: 0, snapshot_node_bytes: 65536 } }) }, env: {} });
    expect(config.cluster?.compaction).toEqual({ snapshotEveryEntries: 500, tailEntriesMax: 0, nodeBytesMax: 65536 });
    expect(loadConfig({ flags: {}, env: {} }).cluster?.compaction).toEqual({});
    expect(() => loadConfig({ flags: { config: fileWith({ raft: { snapshot_every_entries: 0 } }) }, env: {} })).toThrow(/raft.snapshot_every_entries/);
  });

  test('reads raft.persist_rounds_in_flight from the file and the environment', () => {
    expect(loadConfig({ flags: { config: fileWith({ raft: { persist_rounds_in_flight: 2 } }) }, env: {} }).cluster?.persistRoundsInFlightMax).toBe(2);
    expect(loadConfig({ flags: {}, env: { ZAQAR_RAFT__PERSIST_ROUNDS_IN_FLIGHT: '1' } }).cluster?.persistRoundsInFlightMax).toBe(1);
    expect(loadConfig({ flags: {}, env: {} }).cluster?.persistRoundsInFlightMax).toBeUndefined();
    expect(() => loadConfig({ flags: { config: fileWith({ raft: { persist_rounds_in_flight: 0 } }) }, env: {} })).toThrow(/raft.persist_rounds_in_flight/);
  });

  test('raft.leaders_follow_traffic: on by default, switched off from the file or the environment, booleans only', () => {
    expect(loadConfig({ flags: {}, env: {} }).cluster?.leadersFollowTraffic).toBe(true);
    expect(loadConfig({ flags: { config: fileWith({ raft: { leaders_follow_traffic: false } }) }, env: {} }).cluster?.leadersFollowTraffic).toBe(false);
    expect(loadConfig({ flags: {}, env: { ZAQAR_RAFT__LEADERS_FOLLOW_TRAFFIC: 'false' } }).cluster?.leadersFollowTraffic).toBe(false);
    expect(() => loadConfig({ flags: { config: fileWith({ raft: { leaders_follow_traffic: 'no' } }) }, env: {} })).toThrow(/raft.leaders_follow_traffic/);
  });

  test('lmdb_map_in_chunks: on by default, switched off from the file or the environment, booleans only', () => {
    expect(loadConfig({ flags: {}, env: {} }).lmdbMapInChunks).toBe(true);
    expect(loadConfig({ flags: { config: fileWith({ storage: { lmdb_map_in_chunks: false } }) }, env: {} }).lmdbMapInChunks).toBe(false);
    expect(loadConfig({ flags: {}, env: { ZAQAR_LMDB_MAP_IN_CHUNKS: 'false' } }).lmdbMapInChunks).toBe(false);
    expect(() => loadConfig({ flags: { config: fileWith({ lmdb_map_in_chunks: 'no' }) }, env: {} })).toThrow(/lmdb_map_in_chunks/);
  });

  test('queue_state_commit_delay_ms: unset by default (the store default), set from the file or the environment, not negative', () => {
    expect(loadConfig({ flags: {}, env: {} }).queueStateCommitDelayMs).toBeUndefined();
    expect(loadConfig({ flags: { config: fileWith({ storage: { queue_state_commit_delay_ms: 0 } }) }, env: {} }).queueStateCommitDelayMs).toBe(0);
    expect(loadConfig({ flags: {}, env: { ZAQAR_QUEUE_STATE_COMMIT_DELAY_MS: '25' } }).queueStateCommitDelayMs).toBe(25);
    expect(() => loadConfig({ flags: { config: fileWith({ queue_state_commit_delay_ms: -1 }) }, env: {} })).toThrow(/queue_state_commit_delay_ms/);
  });

  test('message_pipeline: the notifier stage by default, a list or a comma string, [] switches delivery off, unknown stages fail', () => {
    const pipeline = (config: ReturnType<typeof loadConfig>): readonly string[] | undefined => config.notification?.messagePipeline;
    expect(pipeline(loadConfig({ flags: {}, env: {} }))).toEqual(['zaqar.notification.notifier']);
    expect(pipeline(loadConfig({ flags: { config: fileWith({ storage: { message_pipeline: [] } }) }, env: {} }))).toEqual([]);
    expect(pipeline(loadConfig({ flags: {}, env: { ZAQAR_MESSAGE_PIPELINE: 'zaqar.notification.notifier' } }))).toEqual(['zaqar.notification.notifier']);
    expect(pipeline(loadConfig({ flags: {}, env: { ZAQAR_MESSAGE_PIPELINE: '' } }))).toEqual([]);
    expect(pipeline(loadConfig({ flags: {}, env: { ZAQAR_MESSAGE_PIPELINE: '["zaqar.notification.notifier"]' } }))).toEqual(['zaqar.notification.notifier']);
    expect(() => loadConfig({ flags: { config: fileWith({ message_pipeline: 'zaqar.notification.notifier, zaqar.other' }) }, env: {} }))
      .toThrow(/message_pipeline: unknown stage "zaqar.other"/);
    expect(() => loadConfig({ flags: { config: fileWith({ message_pipeline: 3 }) }, env: {} })).toThrow(/option message_pipeline must be/);
  });

  test('confirmation e-mail options: Zaqar 15 templates by default, keys overridden one by one, bad values fail', () => {
    const defaults = loadConfig({ flags: {}, env: {} }).notification;
    expect(defaults?.externalConfirmationUrl).toBeUndefined();
    expect(defaults?.subscriptionConfirmationEmail).toEqual({
      topic: 'Zaqar Notification - Subscription Confirmation',
      body: 'You have chosen to subscribe to the queue: {0}. This queue belongs to project: {1}. To confirm this subscription, click or visit this link below: {2}',
      sender: 'Zaqar Notifications <no-reply@openstack.org>',
    });
    const path = fileWith({ notification: { external_confirmation_url: 'https://confirm.example/', unsubscribe_confirmation_email_template: { topic: 'Bye' } } });
    const config = loadConfig({ flags: { config: path }, env: {} }).notification;
    expect(config?.externalConfirmationUrl).toBe('https://confirm.example/');
    expect(config?.unsubscribeConfirmationEmail).toMatchObject({ topic: 'Bye', sender: 'Zaqar Notifications <no-reply@openstack.org>' });
    expect(config?.unsubscribeConfirmationEmail.body).toMatch(/^You have unsubscribed successfully to the queue: \{0\}/);
    expect(() => loadConfig({ flags: { config: fileWith({ notification: { subscription_confirmation_email_template: { title: 'x' } } }) }, env: {} }))
      .toThrow(/subscription_confirmation_email_template: "title"/);
    expect(() => loadConfig({ flags: { config: fileWith({ notification: { smtp_port: 'x' } }) }, env: {} })).toThrow(/notification.smtp_port must be a positive integer/);
  });
});
