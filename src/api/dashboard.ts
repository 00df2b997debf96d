// GET /dashboard (issue 10): one static page, vanilla JavaScript and inline SVG, that reads
// /v1/indicators and draws it for a regional project lead. Read once at start; no build step.
// The page is static and holds no data: it is open; the indicators it reads need acts:read. With
// authentication on, the page asks for an API key or a token on 401 and keeps it in sessionStorage only.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';

const PAGE = readFileSync(new URL('./dashboard/index.html', import.meta.url), 'utf8');

/** The CSP hash of the page's inline element of that tag: only that exact script (style) may run. */
function inlineHash(tag: 'script' | 'style'): string {
  const match = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(PAGE);
  if (match?.[1] === undefined) throw new Error(`dashboard: no inline <${tag}>`);
  return `'sha256-${createHash('sha256').update(match[1], 'utf8').digest('base64')}'`;
}

const CSP = {
  directives: {
    'default-src': ["'self'"],
    'base-uri': ["'self'"],
    'connect-src': ["'self'"],
    'font-src': ["'self'", 'data:'],
    'form-action': ["'self'"],
    'frame-ancestors': ["'none'"],
    'img-src': ["'self'", 'data:'],
    'object-src': ["'none'"],
    'script-src': ["'self'", inlineHash('script')],
    'script-src-attr': ["'none'"],
    'style-src': ["'self'", inlineHash('style')],
  },
  useDefaults: false,
};

export const dashboardRoutes: FastifyPluginAsync = async (app) => {
  app.get('/dashboard', { schema: { hide: true }, helmet: { contentSecurityPolicy: CSP, crossOriginEmbedderPolicy: false } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(PAGE),
  );
};
