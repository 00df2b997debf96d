// `npm run build [-- outDir]`: tsc compiles src/ to JavaScript in dist/ (or outDir) but copies only the JSON
// it imports; the files the service reads by path at run time (the pages and their shared assets, the
// INSEE geography CSV, …) must sit beside the compiled modules that read them. So: tsc, then every file
// of src/ that is neither TypeScript nor documentation, copied to its place. The output folder must be a
// child of the repository, as dist/ is: the service finds profiles/, mappings/ and node_modules/ above it.
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync } from 'node:fs';
import { extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SRC = join(ROOT, 'src');
const NOT_ASSETS = new Set(['.ts', '.md']);

/** The run-time files of src/ that tsc does not emit, as paths relative to src/. */
export function assetsOf(src = SRC): string[] {
  return readdirSync(src, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && !NOT_ASSETS.has(extname(entry.name)))
    .map((entry) => relative(src, join(entry.parentPath, entry.name)))
    .sort();
}

/** Compiles src/ into outDir and copies its run-time files there; throws when tsc fails. */
export function build(outDir: string): string[] {
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', outDir], { stdio: 'inherit' });
  if (tsc.status !== 0) throw new Error(`tsc failed (exit ${tsc.status ?? tsc.signal})`);
  const assets = assetsOf();
  for (const asset of assets) cpSync(join(SRC, asset), join(outDir, asset));
  return assets;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = resolve(ROOT, process.argv[2] ?? 'dist');
  try {
    console.log(`built ${relative(ROOT, outDir)}/ with ${build(outDir).length} run-time files of src/ beside the modules`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
