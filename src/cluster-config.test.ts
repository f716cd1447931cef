/**
 * loadClusterConfig: defaults for a cluster of one, peer lists from flags/env strings and
 * from the file, the raft address taken from the node's own peer entry, initial members, the replica count,
 * join seeds and the advertised address, and the errors that stop a bad deployment at start.
 */
import { describe, expect, test } from 'vitest';
import { loadClusterConfig } from './cluster-config.js';

const fail = (message: string): Error => new Error(message);

describe('loadClusterConfig', () => {
  test('without peers a node is a cluster of one', () => {
    const config = loadClusterConfig({}, fail);
    expect(config).toMatchObject({ nodeId: 1, raftListen: undefined, replicas: 1, initialMembers: undefined });
    expect(config.peers.size).toBe(0);
  });

  test('peers listing the node itself give its raft address and leave the others as peers', () => {
    const config = loadClusterConfig({ nodeId: '2', peers: '1=127.0.0.1:7001, 2=127.0.0.1:7002,3=h3:7003' }, fail);
    expect(config.raftListen).toBe('127.0.0.1:7002');
    expect([...config.peers]).toEqual([[1, '127.0.0.1:7001'], [3, 'h3:7003']]);
    expect(config.replicas).toBe(3);
  });

  test('an explicit raft address wins and a file may give peers as an object', () => {
    const config = loadClusterConfig({ nodeId: 1, peers: { '2': 'h2:7000' }, raftListen: '0.0.0.0:7000' }, fail);
    expect(config.raftListen).toBe('0.0.0.0:7000');
    expect([...config.peers.keys()]).toEqual([2]);
  });

  test('initial members set the replica count', () => {
    const config = loadClusterConfig({ nodeId: '4', peers: '1=a:1,2=a:2,3=a:3,4=a:4', initialMembers: '1,2,3' }, fail);
    expect(config.initialMembers).toEqual([1, 2, 3]);
    expect(config.replicas).toBe(3);
  });

  test('replicas below the member count are kept, above it capped', () => {
    const peers = '1=a:1,2=a:2,3=a:3,4=a:4';
    expect(loadClusterConfig({ peers, replicas: '3' }, fail).replicas).toBe(3);
    expect(loadClusterConfig({ peers, replicas: '2' }, fail).replicas).toBe(2);
    expect(loadClusterConfig({ peers, replicas: '7' }, fail).replicas).toBe(4);
    expect(loadClusterConfig({ peers }, fail).replicas).toBe(3);
  });

  test('a joining node knows its seeds and advertises its raft address', () => {
    const config = loadClusterConfig({ nodeId: '4', raftListen: '127.0.0.1:7004', join: '127.0.0.1:7001, 127.0.0.1:7002' }, fail);
    expect(config).toMatchObject({ nodeId: 4, raftListen: '127.0.0.1:7004', advertise: '127.0.0.1:7004', join: ['127.0.0.1:7001', '127.0.0.1:7002'] });
    expect(config.peers.size).toBe(0);
  });

  test('advertise names the address others dial when listening on a wildcard', () => {
    const config = loadClusterConfig({ nodeId: '4', raftListen: '0.0.0.0:7000', advertise: 'node-4.zaqar:7000', join: ['node-1.zaqar:7000'] }, fail);
    expect(config).toMatchObject({ advertise: 'node-4.zaqar:7000', join: ['node-1.zaqar:7000'] });
    expect(loadClusterConfig({ nodeId: 1, peers: { '2': 'h2:7000' }, raftListen: '0.0.0.0:7000' }, fail).advertise).toBeUndefined();
  });

  test.each([
    [{ nodeId: '4', join: '127.0.0.1:7001' }, /raft_listen is required with join/],
    [{ nodeId: '4', raftListen: '0.0.0.0:7004', join: '127.0.0.1:7001' }, /advertise is required/],
    [{ nodeId: '4', raftListen: '127.0.0.1:7004', join: 'seed' }, /join must be HOST:PORT/],
    [{ nodeId: '4', raftListen: '127.0.0.1:7004', join: '' }, /join must list/],
    [{ nodeId: '4', raftListen: '127.0.0.1:7004', advertise: 'x:0' }, /advertise must be HOST:PORT/],
    [{ nodeId: '0' }, /node_id/],
    [{ nodeId: 'x' }, /node_id/],
    [{ peers: '1=127.0.0.1:7001,1=127.0.0.1:7002' }, /twice/],
    [{ peers: 'nonsense' }, /ID=HOST:PORT/],
    [{ nodeId: '3', peers: '1=a:1,2=a:2' }, /raft_listen is required/],
    [{ peers: '1=a:1,2=a:2,3=a:3', replicas: '0' }, /replicas/],
    [{ peers: '1=a:1', initialMembers: '' }, /initial_members/],
  ])('refuses %j', (input, message) => {
    expect(() => loadClusterConfig(input, fail)).toThrow(message);
  });
});
