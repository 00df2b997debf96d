// HTTPS for the service itself: the certificate and key files, and optionally the authorities whose
// client certificates are required (mutual TLS between a hospital's systems and the service).
import { readFileSync } from 'node:fs';
import type { SecureContextOptions } from 'node:tls';
import type { Config } from '../config.ts';
import { ConfigError } from '../config.ts';

export interface HttpsOptions extends SecureContextOptions {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca?: Buffer;
  readonly requestCert: boolean;
  readonly rejectUnauthorized: boolean;
  readonly minVersion: 'TLSv1.2';
}

function read(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(variable, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

/** Node's https options, or undefined for plain HTTP; throws a ConfigError naming an unreadable file. */
export function httpsOptionsOf(config: Pick<Config, 'tlsCertFile' | 'tlsKeyFile' | 'tlsCaFile' | 'tlsRequireClientCert'>): HttpsOptions | undefined {
  if (config.tlsCertFile === undefined || config.tlsKeyFile === undefined) return undefined;
  const ca = config.tlsCaFile === undefined ? undefined : read('TLS_CA_FILE', config.tlsCaFile);
  return {
    cert: read('TLS_CERT_FILE', config.tlsCertFile),
    key: read('TLS_KEY_FILE', config.tlsKeyFile),
    ...(ca === undefined ? {} : { ca }),
    requestCert: config.tlsRequireClientCert,
    rejectUnauthorized: config.tlsRequireClientCert,
    minVersion: 'TLSv1.2',
  };
}
