import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** One file of an npm-style FHIR package (`package/…` inside the .tgz). */
export interface PackageFile {
  /** Path inside the archive, e.g. `package/StructureDefinition-fr-core-patient.json`. */
  readonly path: string;
  readonly content: Buffer;
}

export interface FhirPackage {
  readonly name: string;
  readonly version: string;
  readonly files: readonly PackageFile[];
}

/**
 * Reads the regular files of a tar archive (ustar, with GNU and pax long names), enough for FHIR packages:
 * 512-byte headers, the size in octal, contents padded to 512 bytes.
 */
export function readTar(archive: Buffer): PackageFile[] {
  const files: PackageFile[] = [];
  let offset = 0;
  let longName: string | undefined;
  while (offset + 512 <= archive.length) {
    const header = archive.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const field = (start: number, length: number): string =>
      header.subarray(start, start + length).toString('utf8').replace(/\0.*$/s, '');
    const size = Number.parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const prefix = field(345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    longName = undefined;
    const start = offset + 512;
    const content = archive.subarray(start, start + size);
    if (type === 'L') {
      longName = content.toString('utf8').replace(/\0.*$/s, '');
    } else if (type === 'x') {
      const path = /\d+ path=([^\n]*)\n/.exec(content.toString('utf8'));
      if (path?.[1]) longName = path[1];
    } else if (type === '0' || type === '7') {
      files.push({ path: name, content: Buffer.from(content) });
    }
    offset = start + Math.ceil(size / 512) * 512;
  }
  return files;
}

/** Reads a FHIR package .tgz: its manifest (package/package.json) and every file. */
export function readFhirPackage(tgzPath: string): FhirPackage {
  const files = readTar(gunzipSync(readFileSync(tgzPath)));
  const manifest = files.find((file) => file.path === 'package/package.json');
  if (!manifest) throw new Error(`${tgzPath} is not a FHIR package: it has no package/package.json`);
  const { name, version } = JSON.parse(manifest.content.toString('utf8')) as { name: string; version: string };
  return { name, version, files };
}

/** The conformance resources at the top of a package (not its examples), parsed. */
export function packageResources<T = Record<string, unknown>>(pkg: FhirPackage, resourceTypes: readonly string[]): T[] {
  const out: T[] = [];
  for (const file of pkg.files) {
    if (!/^package\/[^/]+\.json$/.test(file.path) || file.path.endsWith('/package.json')) continue;
    if (file.path.endsWith('.index.json')) continue;
    const resource = JSON.parse(file.content.toString('utf8')) as { resourceType?: string };
    if (resource.resourceType && resourceTypes.includes(resource.resourceType)) out.push(resource as T);
  }
  return out;
}
