// GET /dashboard (issue 10): one static page, vanilla JavaScript and inline SVG, that reads
// /v1/indicators and draws it for a regional project lead. Read once at start; no build step.
// The page is static and holds no data: it is open; the indicators it reads need acts:read. With
// authentication on, the page asks for an API key or a token on 401 and keeps it in sessionStorage only.
import { staticPage } from './static-page.ts';

export const dashboardRoutes = staticPage('/dashboard', new URL('./dashboard/index.html', import.meta.url));
