/**
 * A real Keystone for the authentication suite: Debian's `keystone` package (installed
 * with apt-get when missing), a sqlite database and fernet keys in a temp directory,
 * `keystone-manage bootstrap` for the admin, and `keystone-wsgi-public` (wsgiref) on a
 * free 127.0.0.1 port. Projects, users and role assignments are then made through the
 * v3 API with the admin's token. Tokens live `tokenLifetimeSeconds`, short enough for
 * the suite to watch one expire.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const adminPassword = 'admin-secret';
const startDeadlineMs = 120_000;

export interface IssuedToken {
  readonly token: string;
  readonly expiresAtMs: number;
  readonly projectId: string;
}

export class KeystoneFixture {
  private constructor(private readonly dir: string, private readonly child: ChildProcess, readonly url: string) {}

  static async start(options: { tokenLifetimeSeconds: number }): Promise<KeystoneFixture> {
    ensureInstalled();
    const dir = mkdtempSync(join(tmpdir(), 'zaqar-keystone-'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const conf = join(dir, 'keystone.conf');
    writeFileSync(conf, [
      '[DEFAULT]', `log_dir = ${dir}`, 'log_file = keystone.log',
      '[database]', `connection = sqlite:///${join(dir, 'keystone.db')}`,
      '[token]', 'provider = fernet', `expiration = ${options.tokenLifetimeSeconds}`,
      '[fernet_tokens]', `key_repository = ${join(dir, 'fernet-keys')}`,
      '[fernet_receipts]', `key_repository = ${join(dir, 'fernet-receipts')}`,
      '[credential]', `key_repository = ${join(dir, 'credential-keys')}`,
    ].join('\n'));
    const manage = (...args: string[]): void => {
      execFileSync('keystone-manage', ['--config-file', conf, ...args], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 180_000 });
    };
    manage('db_sync');
    manage('fernet_setup', '--keystone-user', 'root', '--keystone-group', 'root');
    manage('credential_setup', '--keystone-user', 'root', '--keystone-group', 'root');
    manage('bootstrap', '--bootstrap-password', adminPassword, '--bootstrap-public-url', `${url}/v3/`);
    const child = spawn('keystone-wsgi-public', ['--port', String(port), '--host', '127.0.0.1', '--', '--config-file', conf],
      { stdio: ['ignore', 'ignore', 'ignore'] });
    const fixture = new KeystoneFixture(dir, child, url);
    await fixture.waitReady();
    return fixture;
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + startDeadlineMs;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`keystone exited with ${this.child.exitCode}`);
      try {
        if ((await fetch(`${this.url}/v3`)).status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error('keystone did not start in time');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** A project-scoped token for a user (password method). */
  async token(user: string, password: string, project: string): Promise<IssuedToken> {
    const response = await fetch(`${this.url}/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ auth: {
        identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password } } },
        scope: { project: { name: project, domain: { id: 'default' } } },
      } }),
    });
    const token = response.headers.get('x-subject-token');
    if (response.status !== 201 || token === null) throw new Error(`token for ${user}: ${response.status} ${await response.text()}`);
    const document = (await response.json()) as { token: { expires_at: string; project: { id: string } } };
    return { token, expiresAtMs: Date.parse(document.token.expires_at), projectId: document.token.project.id };
  }

  adminToken(): Promise<IssuedToken> {
    return this.token('admin', adminPassword, 'admin');
  }

  get adminCredentials(): { username: string; password: string; project: string } {
    return { username: 'admin', password: adminPassword, project: 'admin' };
  }

  /** Creates a project and a user holding `role` on it; returns the project id. */
  async projectWithUser(options: { project: string; user: string; password: string; role: string }): Promise<string> {
    const { token } = await this.adminToken();
    const projectId = await this.create(token, 'projects', { project: { name: options.project, domain_id: 'default' } });
    const userId = await this.create(token, 'users', { user: { name: options.user, password: options.password, domain_id: 'default' } });
    const roles = (await (await this.api(token, 'GET', `/v3/roles?name=${options.role}`)).json()) as { roles: Array<{ id: string }> };
    const roleId = roles.roles[0]?.id;
    if (roleId === undefined) throw new Error(`no role ${options.role}`);
    const grant = await this.api(token, 'PUT', `/v3/projects/${projectId}/users/${userId}/roles/${roleId}`);
    if (grant.status !== 204) throw new Error(`grant: ${grant.status}`);
    return projectId;
  }

  async revoke(token: string): Promise<void> {
    const admin = await this.adminToken();
    const response = await fetch(`${this.url}/v3/auth/tokens`, {
      method: 'DELETE', headers: { 'X-Auth-Token': admin.token, 'X-Subject-Token': token },
    });
    if (response.status !== 204) throw new Error(`revoke: ${response.status}`);
  }

  private async create(token: string, kind: string, body: unknown): Promise<string> {
    const response = await this.api(token, 'POST', `/v3/${kind}`, body);
    if (response.status !== 201) throw new Error(`create ${kind}: ${response.status} ${await response.text()}`);
    const document = (await response.json()) as Record<string, { id: string }>;
    const id = document[kind.slice(0, -1)]?.id;
    if (id === undefined) throw new Error(`create ${kind}: no id`);
    return id;
  }

  private api(token: string, method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${this.url}${path}`, {
      method, headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  stop(): void {
    this.child.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function ensureInstalled(): void {
  try {
    execFileSync('which', ['keystone-manage'], { stdio: 'ignore' });
  } catch {
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'keystone'],
      { stdio: 'ignore', timeout: 600_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
