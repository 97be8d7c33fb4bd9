import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Imports flow one way (ARCHITECTURE.md): runtime ← domain ← store ← http ← the handlers. Each
 * folder of functions/shared/ may import only the layers below it, and a domain folder only the
 * domain folders ranked below it (events, accounts, outbound ← loops ← delivery ← logs). The domain
 * imports no AWS SDK, not even through runtime's clients. A wrong import fails `npm run lint`.
 */
const HANDLERS = [
  'api',
  'ingest',
  'fanout',
  'deliver',
  'dead-letters',
  'verifier',
  'log-writer',
  'log-compactor',
  'tracking',
];
const SDK_CLIENTS = ['dynamo', 's3', 'secrets', 'sqs', 'sqs-send', 'sqs-batch'];
/** A folder of functions/shared/, spelt `#shared/<folder>/…` or `../<folder>/…`. */
const folder = (names) => `^(#shared|\\.\\.)/(${names.join('|')})/`;
const LAYERS = {
  runtime: { below: [] },
  events: { below: ['runtime'] },
  accounts: { below: ['runtime'] },
  outbound: { below: ['runtime'] },
  loops: { below: ['runtime', 'events', 'outbound'] },
  delivery: { below: ['runtime', 'events', 'outbound', 'loops'] },
  logs: { below: ['runtime', 'events', 'delivery'] },
  store: { below: ['runtime', 'events', 'accounts', 'outbound', 'loops', 'delivery', 'logs'] },
  http: { below: ['runtime', 'events', 'accounts', 'outbound', 'loops', 'delivery', 'logs', 'store'] },
};
/** What the stack may import from functions/shared: modules free of the SDK and of the functions' setup. */
const LIB_MAY_IMPORT = [
  'runtime/env-names\\.ts',
  'runtime/sqs-limits\\.ts',
  'delivery/retry-policy\\.ts',
  'http/routes\\.ts',
  'events/ses-source-names\\.ts',
];
const DOMAIN = ['events', 'accounts', 'outbound', 'loops', 'delivery', 'logs'];
const layering = Object.entries(LAYERS).map(([name, { below }]) => {
  const forbidden = Object.keys(LAYERS).filter((other) => other !== name && !below.includes(other));
  const allowed = below.length ? `only ${below.join(', ')}` : 'nothing else of functions/shared';
  const patterns = [
    { regex: folder(forbidden), message: `${name}/ may import ${allowed}: imports flow one way.` },
    {
      regex: `^(\\.\\./)+(${HANDLERS.join('|')})/`,
      message: 'Shared code never imports a handler.',
    },
  ];
  if (DOMAIN.includes(name)) {
    patterns.push(
      { regex: '^@aws-sdk/', message: 'The domain imports no AWS SDK: the store and runtime/ talk to AWS.' },
      {
        regex: `^(#shared/runtime|\\.\\./runtime)/(${SDK_CLIENTS.join('|')})\\.ts$`,
        message: "The domain imports no AWS SDK, not even through runtime's clients.",
      },
    );
  }
  return { files: [`functions/shared/${name}/**/*.ts`], rules: { 'no-restricted-imports': ['error', { patterns }] } };
});

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.twin/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  ...layering,
  {
    // A handler wires its own function; what two share lives in functions/shared/.
    files: HANDLERS.map((name) => `functions/${name}/**/*.ts`),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: `^\\.\\./(${HANDLERS.join('|')})/`, message: 'A handler never imports another function.' },
          ],
        },
      ],
    },
  },
  {
    // The stack imports from functions/ only plain modules: names, limits and the route table.
    files: ['lib/**/*.ts', 'bin/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^#shared/(?!(${LIB_MAY_IMPORT.join('|')})$)`,
              message: 'lib/ imports from functions/shared only plain modules (LIB_MAY_IMPORT in eslint.config.js).',
            },
          ],
        },
      ],
    },
  },
  {
    // Plain JavaScript that Node runs as it is (the twin's Lambda runtime host).
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // Tests walk synthesized templates and API answers, whose shapes are what they assert.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
