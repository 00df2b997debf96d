import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

// The rooms of src/ from the top of the data flow to its bottom (../shared/DESIGN.md): a room imports
// only rooms of lower rows. Rows hold one room each where an order exists between them; the two entry
// points share the top row and may not import each other.
const ROOMS_TOP_DOWN = [
  ['main.ts', 'cli'],
  ['app.ts'],
  ['api'],
  ['security'],
  // Metrics and traces watch the store, the outbox and the imports through their interfaces.
  ['observability'],
  ['delivery'],
  // writes/ runs the import engine for an offer-import message, hence above import/.
  ['writes'],
  ['indicators'],
  ['import'],
  ['synthetic'],
  ['fhir'],
  ['mapping'],
  ['terminology'],
  ['model'],
  ['ins'],
  ['problems.ts', 'config.ts', 'transactions.ts'],
];

/** For each room, the rooms it may not import: itself excepted, every room of its row and the rows above. */
function roomZones() {
  const zones = [];
  ROOMS_TOP_DOWN.forEach((row, index) => {
    const above = ROOMS_TOP_DOWN.slice(0, index + 1).flat();
    for (const room of row) {
      zones.push({
        target: `./src/${room}`,
        from: above.filter((other) => other !== room).map((other) => `./src/${other}`),
        message: `${room} sits below these rooms in the data flow (DESIGN.md "Rooms"): it may import only rooms of lower rows (eslint.config.js ROOMS_TOP_DOWN).`,
      });
    }
  });
  return zones;
}

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'docker/hapi/target/', '.hapi/', 'data/', '.tap/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    files: ['src/cli/**', 'bench/**', 'scripts/**', 'test/**'],
    rules: { 'no-console': 'off' },
  },
  // The modules the pages load in the browser (src/api/pages/): the browser's globals they use.
  {
    files: ['src/api/pages/**/*.js'],
    languageOptions: { sourceType: 'module', globals: { document: 'readonly', sessionStorage: 'readonly', location: 'readonly', fetch: 'readonly' } },
  },
  // The shape of the house, enforced: no import cycle between modules, and each room imports only the
  // rooms below it. Imports name their .ts file, so the plain node resolver finds every one.
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js'] })],
      // The imported modules are read to follow the cycles: they are TypeScript.
      'import-x/extensions': ['.ts'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: roomZones() }],
    },
  },
);
