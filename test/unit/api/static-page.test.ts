// The static pages and what they share, without a browser: each page loads the shared key form and style
// from /assets/ (served, with their content types), runs only its own inline script (its hash in the CSP),
// and no longer carries a key form of its own.
import t from 'tap';
import { testApp } from '../../support/app.ts';

t.test('the pages load the shared assets, which are served', async (t) => {
  const { app } = await testApp();
  t.teardown(() => app.close());
  for (const path of ['/dashboard', '/deliveries']) {
    const page = await app.inject({ method: 'GET', url: path });
    t.equal(page.statusCode, 200, path);
    const csp = String(page.headers['content-security-policy']);
    t.match(csp, /(^|;)script-src 'self' 'sha256-[A-Za-z0-9+/=]+'(;|$)/, `${path}: its inline script by hash, the rest from the service`);
    t.match(csp, /(^|;)style-src 'self' 'sha256-[A-Za-z0-9+/=]+'(;|$)/, `${path}: its inline style by hash, the rest from the service`);
    t.match(page.body, /import \{ AuthError, keyForm \} from "\/assets\/credentials\.js"/, `${path}: the shared key form`);
    t.match(page.body, /<link rel="stylesheet" href="\/assets\/page\.css">/, `${path}: the shared style`);
    t.notMatch(page.body, /sessionStorage/, `${path}: the key is kept by the shared module only`);
    t.match(page.body, /<form id="credentials" hidden><\/form>/, `${path}: the form's place, filled by the module`);
  }
  const script = await app.inject({ method: 'GET', url: '/assets/credentials.js' });
  t.equal(script.statusCode, 200);
  t.match(script.headers['content-type'], /^text\/javascript/, 'a module the browser runs');
  t.match(script.body, /export function keyForm/);
  const style = await app.inject({ method: 'GET', url: '/assets/page.css' });
  t.match(style.headers['content-type'], /^text\/css/);
  t.match(style.body, /:focus-visible/, 'the focus ring every page shows');
  t.equal((await app.inject({ method: 'GET', url: '/assets/nothing.js' })).statusCode, 404);
});
