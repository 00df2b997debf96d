import { readFileSync } from 'node:fs';
import t from 'tap';
import { CONFIG_VARIABLES } from '../../src/config.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

t.test("the README's configuration table is the one the code reads", async (t) => {
  for (const variable of CONFIG_VARIABLES) {
    t.ok(readme.includes(`| \`${variable.name}\` | ${variable.default} | ${variable.meaning} |`), variable.name);
  }
  const documented = [...readme.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((match) => match[1]);
  t.same(documented, CONFIG_VARIABLES.map((variable) => variable.name), 'no variable documented that the code does not read');
});
