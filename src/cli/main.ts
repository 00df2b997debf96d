// The telesante command line: `telesante ins check …`, `telesante validate <file.json>`,
// `telesante offers import|generate …` (cli/offers.ts), `telesante acts generate …` (cli/acts.ts).
// Exit codes: 0 valid, 1 invalid, 2 usage error (offers import: see cli/offers.ts).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createValidator, validateText } from '../fhir/validation/index.ts';
import { checkIns } from '../ins/index.ts';
import type { InsTraits } from '../ins/index.ts';
import { actsGenerate, ACTS_USAGE } from './acts.ts';
import { offersGenerate, offersImport, OFFERS_USAGE } from './offers.ts';

const USAGE = `usage:
  telesante ins check <INS> [--oid OID] [--sex male|female] [--birth-date YYYY-MM-DD] [--birthplace COG] [--allow-test] [--json]
  telesante validate <file.json> [--json]
${OFFERS_USAGE}
${ACTS_USAGE}`;

function usage(message?: string): number {
  if (message) console.error(`telesante: ${message}`);
  console.error(USAGE);
  return 2;
}

function insCheck(args: string[]): number {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        oid: { type: 'string' },
        sex: { type: 'string' },
        'birth-date': { type: 'string' },
        birthplace: { type: 'string' },
        'allow-test': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    return usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) return usage('ins check takes exactly one INS');
  const sex = values.sex;
  if (sex !== undefined && !['male', 'female', 'other', 'unknown'].includes(sex)) return usage('--sex is male, female, other or unknown');
  const traits: InsTraits = { sex: sex as InsTraits['sex'], birthDate: values['birth-date'], birthplaceCode: values.birthplace };
  const result = checkIns({ ins: positionals[0], oid: values.oid, traits }, { allowTestIdentities: values['allow-test'] });
  if (values.json) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    console.log(`${result.valid ? 'valide' : 'INVALIDE'} : ${result.ins} (${result.kind ?? 'type inconnu'}${result.test ? ', identité de test' : ''})`);
    for (const issue of result.issues) console.log(`  ${issue.severity === 'error' ? 'erreur ' : 'alerte '} ${issue.code} [${issue.field}] ${issue.message}`);
  }
  return result.valid ? 0 : 1;
}

async function validate(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
  } catch (error) {
    return usage((error as Error).message);
  }
  const file = parsed.positionals[0];
  if (parsed.positionals.length !== 1 || file === undefined) return usage('validate takes exactly one file');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    return usage(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const validator = await createValidator();
  const result = validateText(validator, text);
  if (parsed.values.json) {
    console.log(JSON.stringify(result.outcome, null, 2));
  } else {
    console.log(`${result.valid ? 'valide' : 'INVALIDE'} : ${file}`);
    for (const issue of result.issues) console.log(`  ${issue.severity} ${issue.expression || '(racine)'} : ${issue.message}`);
  }
  return result.valid ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv;
  if (command === 'ins' && sub === 'check') return insCheck(rest);
  if (command === 'offers' && sub === 'import') return offersImport(rest, usage);
  if (command === 'offers' && sub === 'generate') return offersGenerate(rest, usage);
  if (command === 'acts' && sub === 'generate') return actsGenerate(rest, usage);
  if (command === 'validate') return validate([sub, ...rest].filter((arg): arg is string => arg !== undefined));
  if (command === undefined || command === '--help' || command === '-h') return usage();
  return usage(`unknown command: ${argv.join(' ')}`);
}

process.exitCode = await main(process.argv.slice(2));
