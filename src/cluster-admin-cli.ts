/**
 * `zaqar-ts cluster status|add ID [--address HOST:PORT]|remove ID [--url URL]`: the
 * operator's side of the admin endpoints (`GET /v2/cluster`, `PUT|DELETE
 * /v2/cluster/nodes/{id}`) of any node running in admin mode. The URL defaults to
 * ZAQAR_URL, else http://127.0.0.1:8888. `--address` is the added node's cluster gRPC
 * address, sent as `{"address": ...}`. Prints one line per shard replica for `status`;
 * exits non-zero when the node refuses.
 */

const adminHeaders = { 'Client-ID': '3fa85f64-5717-4562-b3fc-2c963f66afa6', 'X-Project-ID': 'admin', 'X-Roles': 'admin' };
const changeTimeoutMs = 300_000;

export const clusterUsage = `usage: zaqar-ts cluster status [--url URL]
       zaqar-ts cluster add ID [--address HOST:PORT] [--url URL]   add a running node (replicas rebalance onto it)
       zaqar-ts cluster remove ID [--url URL]   remove a node (its replicas move away), then stop it
  --url URL            any node's API in admin mode (env ZAQAR_URL, default http://127.0.0.1:8888)
  --address HOST:PORT  the added node's cluster gRPC address (needed unless the cluster already knows it)
`;

interface ShardLine {
  readonly shardId: number;
  readonly role: string;
  readonly leader: number;
  readonly term: number;
  readonly commit: number;
  readonly applied: number;
  readonly voters: readonly number[];
  readonly lagEntries: Readonly<Record<string, number>>;
}

export async function runClusterCommand(args: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const urlAt = args.indexOf('--url');
  const url = (urlAt >= 0 ? args[urlAt + 1] : undefined) ?? env['ZAQAR_URL'] ?? 'http://127.0.0.1:8888';
  const addressAt = args.indexOf('--address');
  const address = addressAt >= 0 ? args[addressAt + 1] : undefined;
  // Only options present take their value with them (an absent one's index is -1, whose "+ 1" is the action).
  const optionAt = [urlAt, addressAt].filter((at) => at >= 0);
  const positional = args.filter((_, i) => !optionAt.some((at) => i === at || i === at + 1));
  const [action, id, extra] = positional;
  const isAddressValid = addressAt < 0 || (address !== undefined && action === 'add');
  if (action === 'status' && id === undefined && addressAt < 0) return printStatus(url);
  if ((action === 'add' || action === 'remove') && id !== undefined && /^\d+$/.test(id) && extra === undefined && isAddressValid) {
    const response = await fetch(`${url}/v2/cluster/nodes/${id}`, {
      method: action === 'add' ? 'PUT' : 'DELETE',
      headers: address === undefined ? adminHeaders : { ...adminHeaders, 'Content-Type': 'application/json' },
      ...(address === undefined ? {} : { body: JSON.stringify({ address }) }),
      signal: AbortSignal.timeout(changeTimeoutMs),
    });
    if (response.status === 204) {
      process.stdout.write(`node ${id} ${action === 'add' ? 'added to' : 'removed from'} the cluster, replicas rebalanced\n`);
      return 0;
    }
    process.stderr.write(`zaqar-ts: ${action} node ${id} failed: ${response.status} ${await response.text()}\n`);
    return 1;
  }
  process.stderr.write(clusterUsage);
  return 2;
}

async function printStatus(url: string): Promise<number> {
  const response = await fetch(`${url}/v2/cluster`, { headers: adminHeaders });
  if (response.status !== 200) {
    process.stderr.write(`zaqar-ts: GET /v2/cluster answered ${response.status} ${await response.text()}\n`);
    return 1;
  }
  const report = (await response.json()) as { nodeId: number; shards: ShardLine[]; peers: { nodeId: number; address: string; isConnected: boolean }[] };
  process.stdout.write(`node ${report.nodeId}\n`);
  for (const peer of report.peers) process.stdout.write(`  peer ${peer.nodeId} ${peer.address} ${peer.isConnected ? 'connected' : 'not connected'}\n`);
  for (const s of report.shards) {
    const lag = Object.entries(s.lagEntries).map(([node, entries]) => `${node}:${entries}`).join(' ');
    process.stdout.write(`  shard ${s.shardId} ${s.role} leader=${s.leader} term=${s.term} commit=${s.commit} applied=${s.applied} voters=${s.voters.join(',')}${lag === '' ? '' : ` lag=${lag}`}\n`);
  }
  return 0;
}
