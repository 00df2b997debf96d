// Issue 16, D6 and point 5: once delivered, a message's personal data is nowhere in the outbox's files.
// A 50-act run once left 55 copies of INS, names and reports in the SQLite file and 334 in its WAL: the
// payload was set to NULL, but its bytes stayed in free space and in the WAL. Here acts go through the
// service to the embedded store, then the bytes of the database, its -wal and -shm files are searched
// while the service runs and after it stops. The files are 0600 in a 0700 folder.
import { chmodSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { EmbeddedStore } from '../../../src/fhir/index.ts';
import type { Act } from '../../../src/model/act.ts';
import { testApp } from '../../support/app.ts';
import { tempDir } from '../../support/auth.ts';

const DIR = new URL('../../../examples/acts/', import.meta.url);
const acts = readdirSync(DIR)
  .filter((file) => file.endsWith('.json'))
  .map((file) => JSON.parse(readFileSync(new URL(file, DIR), 'utf8')) as Act);
// What must not stay: every INS, birth name and report opening of the acts sent.
const secrets = acts.flatMap((act) => [act.patient.ins, act.patient.traits?.birthFamilyName, act.report?.text?.slice(0, 40)]).filter((value): value is string => typeof value === 'string' && value.length >= 5);

const folder = join(tempDir('telesante-forget-'), 'outbox');
const path = join(folder, 'outbox.sqlite');
const files = [path, `${path}-wal`, `${path}-shm`];

function copiesIn(file: string): string[] {
  if (!existsSync(file)) return [];
  const bytes = readFileSync(file);
  return secrets.filter((secret) => bytes.includes(Buffer.from(secret, 'utf8')));
}

t.test('delivered acts leave no INS, name or report in the SQLite files; files 0600 in a 0700 folder', async (t) => {
  t.ok(secrets.length >= 10, `${secrets.length} values searched`);
  const { app } = await testApp({ DELIVERY_SQLITE_PATH: path }, new EmbeddedStore());
  let sent = 0;
  for (let round = 0; round < 5; round++) {
    for (const act of acts) {
      const response = await app.inject({ method: 'POST', url: '/v1/acts', payload: { ...act, actId: `${act.actId}-${round}` } });
      t.equal(response.statusCode, 201, `${act.actId}-${round}`);
      sent++;
      await app.inject({ method: 'GET', url: `/v1/acts/${encodeURIComponent(act.source)}/${act.actId}-${round}` });
    }
  }
  // The audit records go through the outbox too: let them be delivered.
  for (let i = 0; i < 100 && (await app.deliveries.outbox.list('pending', 1)).total > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal((await app.deliveries.outbox.list('pending', 1)).total, 0, `${sent} acts and their audit records delivered`);

  t.equal(statSync(folder).mode & 0o777, 0o700, 'the folder: 0700');
  for (const file of files) if (existsSync(file)) t.equal(statSync(file).mode & 0o777, 0o600, `${file.slice(folder.length + 1)}: 0600`);
  for (const file of files) t.same(copiesIn(file), [], `while running: nothing in ${file.slice(folder.length + 1)}`);

  await app.close();
  for (const file of files) t.same(copiesIn(file), [], `after the stop: nothing in ${file.slice(folder.length + 1)}`);
  t.equal(statSync(path).mode & 0o777, 0o600);
  t.equal(statSync(folder).mode & 0o777, 0o700);
});

t.test('an outbox file made before (0644, in a 0755 folder) is made private at start', async (t) => {
  chmodSync(folder, 0o755);
  chmodSync(path, 0o644);
  const { app } = await testApp({ DELIVERY_SQLITE_PATH: path }, new EmbeddedStore());
  t.teardown(() => app.close());
  t.equal(statSync(path).mode & 0o777, 0o600);
  t.equal(statSync(folder).mode & 0o777, 0o700);
});
