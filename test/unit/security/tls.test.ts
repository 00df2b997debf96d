// HTTPS with certificate files, and mutual TLS: a self-signed certificate made for the test (openssl).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { testApp } from '../../support/app.ts';
import { tempDir } from '../../support/auth.ts';

const dir = tempDir('telesante-tls-');
function selfSigned(name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert, key };
}
const server = selfSigned('server');
const client = selfSigned('client');

function get(port: number, options: { cert?: string; key?: string } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/health', ca: readFileSync(server.cert), ...(options.cert ? { cert: readFileSync(options.cert), key: readFileSync(options.key ?? '') } : {}) },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

t.test('HTTPS with the configured certificate', async (t) => {
  const { app } = await testApp({ TLS_CERT_FILE: server.cert, TLS_KEY_FILE: server.key });
  t.teardown(() => app.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  t.equal(await get(port), 200, 'served over TLS, the certificate verified against itself');
  await t.rejects(fetch(`http://127.0.0.1:${port}/health`), 'no plain HTTP on the TLS port');
});

t.test('client certificates required: without one the handshake fails, with one signed by TLS_CA_FILE it passes', async (t) => {
  const { app } = await testApp({ TLS_CERT_FILE: server.cert, TLS_KEY_FILE: server.key, TLS_CA_FILE: client.cert, TLS_REQUIRE_CLIENT_CERT: 'true' });
  t.teardown(() => app.close());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  await t.rejects(get(port), 'no client certificate: refused');
  await t.rejects(get(port, server), 'a certificate the CA did not sign: refused');
  t.equal(await get(port, client), 200);
});
