// Where the CPU of a measurement went, read from Linux's /proc: this process (the client), the HAPI JVM,
// the PostgreSQL processes, and the whole machine. On a machine shared by client, HAPI and PostgreSQL, a
// rate alone moves with whatever else runs; CPU milliseconds per offer do not, and they tell which of
// the three a measurement was bound by. Elsewhere than Linux every figure is undefined.
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc (USER_HZ): 100 on every Linux this runs on. */
const TICK_MS = 10;

export interface CpuSnapshot {
  readonly client: number;
  readonly hapi: number | undefined;
  readonly postgres: number | undefined;
  readonly machineBusy: number | undefined;
  readonly machineTotal: number | undefined;
}

/**
 * utime + stime of a process, in ms, with its reaped children's (cutime + cstime) when asked; undefined
 * when it is gone.
 */
function processMs(pid: string, withReapedChildren = false): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (2nd field) is in parentheses and may hold spaces: count fields after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    const own = (fields[11] ?? 0) + (fields[12] ?? 0);
    const reaped = withReapedChildren ? (fields[13] ?? 0) + (fields[14] ?? 0) : 0;
    return (own + reaped) * TICK_MS;
  } catch {
    return undefined;
  }
}

const parentOf = (pid: string): string | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
  } catch {
    return undefined;
  }
};

function postgresMs(): number | undefined {
  let total = 0;
  let found = false;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  const postgresPids = new Set(
    pids.filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
      } catch {
        return false;
      }
    }),
  );
  for (const pid of postgresPids) {
    // The postmaster (its parent is not a postgres process) also counts the backends that have exited:
    // the kernel adds a reaped child's CPU to its parent's cutime/cstime.
    const parent = parentOf(pid);
    const postmaster = parent === undefined || !postgresPids.has(parent);
    const ms = processMs(pid, postmaster);
    if (ms === undefined) continue;
    total += ms;
    found = true;
  }
  return found ? total : undefined;
}

function machineMs(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const [, ...values] = line.trim().split(/\s+/);
    const ticks = values.map(Number);
    const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    return { busy: (total - idle) * TICK_MS, total: total * TICK_MS };
  } catch {
    return undefined;
  }
}

/**
 * The pid of the HAPI serving this base URL: HAPI_PID, or the process started by docker/hapi/hapi.sh with
 * that port (`--server.port=…` on its command line); undefined if none (a remote or Docker HAPI).
 */
export function hapiPidFor(baseUrl: string): string | undefined {
  if (process.env.HAPI_PID !== undefined) return process.env.HAPI_PID;
  const port = new URL(baseUrl).port || '80';
  try {
    for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(`--server.port=${port}`)) return pid;
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    // no /proc
  }
  return undefined;
}

export function cpuSnapshot(hapiPid: string | undefined): CpuSnapshot {
  const usage = process.cpuUsage();
  const machine = machineMs();
  return {
    client: (usage.user + usage.system) / 1000,
    hapi: hapiPid === undefined ? undefined : processMs(hapiPid),
    postgres: postgresMs(),
    machineBusy: machine?.busy,
    machineTotal: machine?.total,
  };
}

const minus = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : a - b);

/**
 * "CPU ms per offer: client 3.1, HAPI 9.8, PostgreSQL 2.2; machine 93 % busy" between two snapshots
 * (PostgreSQL: its processes and, through the postmaster, those that exited meanwhile).
 */
export function describeCpu(before: CpuSnapshot, after: CpuSnapshot, offers: number): string {
  const per = (ms: number | undefined) => (ms === undefined ? '?' : (ms / offers).toFixed(1));
  const busy = minus(after.machineBusy, before.machineBusy);
  const total = minus(after.machineTotal, before.machineTotal);
  const share = busy === undefined || total === undefined || total === 0 ? '?' : ((busy / total) * 100).toFixed(0);
  return (
    `CPU ms/offer: client ${per(after.client - before.client)}, HAPI ${per(minus(after.hapi, before.hapi))}, ` +
    `PostgreSQL ${per(minus(after.postgres, before.postgres))}; machine ${share} % busy`
  );
}
