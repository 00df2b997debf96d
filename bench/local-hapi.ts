// The local HAPI's PostgreSQL (docker/hapi/hapi.sh, which reads HAPI_DB_NAME). These machines run
// PostgreSQL with autovacuum off, so the statistics of a database loaded by a benchmark stay those of an
// empty one and HAPI's searches plan badly (bench/README.md): a benchmark refreshes them after loading,
// untimed, as autovacuum would on a server where it is on. Nothing is done for a remote server.
import { execFileSync } from 'node:child_process';

export function analyzeLocalHapi(baseUrl: string | undefined): void {
  const host = baseUrl === undefined ? undefined : new URL(baseUrl).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost') return;
  try {
    console.log(execFileSync('sh', [new URL('../docker/hapi/hapi.sh', import.meta.url).pathname, 'analyze'], { encoding: 'utf8' }).trim());
  } catch (error) {
    console.warn(`statistics not refreshed (${error instanceof Error ? error.message : String(error)}): searches may plan badly`);
  }
}
