// The logs a person reads (LOG_FORMAT=pretty, or a terminal) and those a machine reads (JSON lines):
// same content, same redaction. The redaction of personal data in both shapes: test/unit/security/logs.test.ts.
import t from 'tap';
import { EmbeddedStore } from '../../../src/fhir/index.ts';
import { resolvedLogFormat } from '../../../src/observability/logging.ts';
import { testApp } from '../../support/app.ts';

t.test('auto is pretty at a terminal only; json and pretty are what they say', async (t) => {
  t.equal(resolvedLogFormat('auto', true), 'pretty');
  t.equal(resolvedLogFormat('auto', false), 'json');
  t.equal(resolvedLogFormat('json', true), 'json');
  t.equal(resolvedLogFormat('pretty', false), 'pretty');
});

for (const format of ['pretty', 'json'] as const) {
  t.test(`${format}: readable or parseable, and credentials redacted`, async (t) => {
    const { app, logs } = await testApp({ LOG_FORMAT: format }, new EmbeddedStore());
    t.teardown(() => app.close());
    await app.inject({ method: 'GET', url: '/health', headers: { authorization: 'Bearer sekret-token-123' } });
    // What an error object carrying the request's headers would log.
    app.log.warn({ headers: { authorization: 'Bearer sekret-token-123', 'x-api-key': 'k-sekret-456' } }, 'an upstream call failed');
    const lines = logs().split('\n').filter((line) => line.trim() !== '');
    t.ok(lines.length > 2, `${lines.length} lines`);
    const text = logs();
    t.notOk(text.includes('sekret'), 'no credential in the logs');
    t.ok(text.includes('[redacted]'), 'redacted where they were');
    if (format === 'json') {
      for (const line of lines) t.doesNotThrow(() => JSON.parse(line), line);
    } else {
      t.notOk(lines.some((line) => line.startsWith('{')), 'no JSON line');
      t.match(text, /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: an upstream call failed$/m, 'time, level and message first, on one line');
      t.match(text, /INFO: request completed/, 'each request');
      t.match(text, /reqId: "/, 'its fields below, one per line');
    }
  });
}
