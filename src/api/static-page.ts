// The service's static HTML pages (/dashboard, /deliveries): each one file read once at start, with
// one inline <script> and one inline <style>, allowed by their hashes in the page's own Content Security
// Policy (nothing else inline may run). What the pages share (the key form, the house style) is in
// pages/, served under /assets/ and allowed as 'self'. The pages hold no data: they read the API with the
// caller's credentials, which the API checks.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';

/** The CSP hash of the page's inline element of that tag: only that exact script (style) may run. */
function inlineHash(page: string, tag: 'script' | 'style', path: string): string {
  const match = new RegExp(`<${tag}(?: type="module")?>([\\s\\S]*?)</${tag}>`).exec(page);
  if (match?.[1] === undefined) throw new Error(`${path}: no inline <${tag}>`);
  return `'sha256-${createHash('sha256').update(match[1], 'utf8').digest('base64')}'`;
}

/** A plugin serving the HTML file at `file` on GET `path`, with its policy. */
export function staticPage(path: string, file: URL): FastifyPluginAsync {
  const page = readFileSync(file, 'utf8');
  const csp = {
    directives: {
      'default-src': ["'self'"],
      'base-uri': ["'self'"],
      'connect-src': ["'self'"],
      'font-src': ["'self'", 'data:'],
      'form-action': ["'self'"],
      'frame-ancestors': ["'none'"],
      'img-src': ["'self'", 'data:'],
      'object-src': ["'none'"],
      'script-src': ["'self'", inlineHash(page, 'script', path)],
      'script-src-attr': ["'none'"],
      'style-src': ["'self'", inlineHash(page, 'style', path)],
    },
    useDefaults: false,
  };
  return async (app) => {
    app.get(path, { schema: { hide: true }, helmet: { contentSecurityPolicy: csp, crossOriginEmbedderPolicy: false } }, async (_request, reply) =>
      reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(page),
    );
  };
}

const ASSETS = new URL('./pages/', import.meta.url);
const TYPES: Readonly<Record<string, string>> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/** GET /assets/<file> for every file of pages/ (read once at start): what the pages share. */
export const pageAssetRoutes: FastifyPluginAsync = async (app) => {
  for (const name of readdirSync(ASSETS)) {
    const type = TYPES[extname(name)];
    if (type === undefined) throw new Error(`src/api/pages/${name}: no content type for ${extname(name)}`);
    const body = readFileSync(new URL(name, ASSETS), 'utf8');
    app.get(`/assets/${name}`, { schema: { hide: true } }, async (_request, reply) => reply.type(type).header('cache-control', 'no-cache').send(body));
  }
};
