/**
 * `h2g serve` start-up rules as a user meets them: unsafe network settings and bad flags are refused
 * before anything listens (exit 2, one readable line, nothing on stdout); TLS with a token works.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Metadata, type ServiceError, credentials, status } from '@grpc/grpc-js';
import { type ServerInfo, SegmentationClient } from '../../src/generated/h2gnet/v1/segmentation';
import { ROOT } from '../helpers/paths';
import { ensureBuilt, spawnServer } from './child';
import { tempDir, testModels } from './helpers';

const dir = tempDir();
const tokenFile = path.join(dir, 'token');
const TOKEN = 'tls-test-token-0123456789abcdef';
writeFileSync(tokenFile, `${TOKEN}\n`);
chmodSync(tokenFile, 0o600);

beforeAll(async () => {
  await ensureBuilt();
});

function serveFails(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'bin', 'h2g.js'), 'serve', '--models', testModels('tiny'), ...args],
    {
      encoding: 'utf8',
      timeout: 30000,
      env: { ...process.env, H2G_MODELS_HOME: dir },
    },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test.each([
  [
    ['--host', '0.0.0.0'],
    /refusing to listen on non-loopback address 0\.0\.0\.0 without --token-file, --tls-cert\/--tls-key, --allow-root/,
  ],
  [['--host', '0.0.0.0', '--token-file', tokenFile, '--allow-root', dir], /without --tls-cert\/--tls-key/],
  [['--port', 'abc'], /--port must be a number/],
  [['--max-concurrent', '0'], /--max-concurrent must be an integer/],
  [['--token-file', path.join(dir, 'missing')], /cannot read the token file/],
  [['--tls-cert', tokenFile], /--tls-cert and --tls-key go together/],
  [['--allow-root', path.join(dir, 'nope')], /--allow-root .* is not an existing directory/],
  [['--threads', '100000'], /--threads must be an integer in \[0, \d+\]/],
  [['--max-patches', '0'], /--max-patches must be a whole number > 0/],
  [['--max-job-memory-mib', 'lots'], /--max-job-memory-mib must be a number > 0/],
])('refused at start: %j', (args, message) => {
  const r = serveFails(args);
  expect(r.status).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(message);
});

test('TLS and a token: a TLS client with the token is served; plaintext and token-less clients are not', async () => {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      path.join(dir, 'key.pem'),
      '-out',
      path.join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const ts = await spawnServer([
    '--token-file',
    tokenFile,
    '--tls-cert',
    path.join(dir, 'cert.pem'),
    '--tls-key',
    path.join(dir, 'key.pem'),
  ]);
  try {
    const tls = new SegmentationClient(ts.address, credentials.createSsl(readFileSync(path.join(dir, 'cert.pem'))));
    const call = (client: SegmentationClient, md: Metadata) =>
      new Promise<ServerInfo | ServiceError>((resolve) =>
        client.getInfo({}, md, { deadline: new Date(Date.now() + 5000) }, (err, res) => resolve(err ?? res)),
      );
    const md = new Metadata();
    md.set('authorization', `Bearer ${TOKEN}`);
    const info = (await call(tls, md)) as ServerInfo;
    expect(info.limits?.requiresToken).toBe(true);
    expect(((await call(tls, new Metadata())) as ServiceError).code).toBe(status.UNAUTHENTICATED);
    expect(((await call(ts.client, md)) as ServiceError).code).toBe(status.UNAVAILABLE); // plaintext client
    tls.close();
    // The token never reaches the logs.
    expect(JSON.stringify(ts.logs)).not.toContain(TOKEN);
  } finally {
    expect(await ts.stop()).toBe(0);
  }
});

test('a token file readable by others is served, with the documented chmod 600 warning in the log', async () => {
  const loose = path.join(dir, 'loose-token');
  writeFileSync(loose, `${TOKEN}\n`);
  chmodSync(loose, 0o644);
  const ts = await spawnServer(['--token-file', loose]);
  try {
    const warning = ts.logs.find((l) => l.level === 40 && /chmod 600/.test(l.msg));
    expect(warning).toMatchObject({ file: loose, msg: 'the token file is readable by other users; chmod 600 it' });
  } finally {
    expect(await ts.stop()).toBe(0);
  }
  const tight = await spawnServer(['--token-file', tokenFile]);
  expect(tight.logs.some((l) => /chmod 600/.test(l.msg))).toBe(false);
  expect(await tight.stop()).toBe(0);
});

test('SIGTERM the moment READY is read is a graceful stop (exit 0), while the default set still loads', async () => {
  // Before: READY was printed before the signal handlers were installed, and a launcher that stopped
  // the sidecar at once killed it (exit by signal) in 5 of 6 tries on a busy machine.
  for (let i = 0; i < 4; i++) {
    const ts = await spawnServer();
    expect(await ts.stop()).toBe(0);
    // Both lines, in either order: the signal line and the server's lines reach stderr by two buffers.
    expect(ts.logs.some((l) => l.msg === 'signal received')).toBe(true);
    expect(ts.logs.some((l) => l.msg === 'stopped')).toBe(true);
  }
}, 120_000);
