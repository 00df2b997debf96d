// `telesante validate <file.json>`: the validation gate every write passes (FHIR R4, FR Core, our profiles).
import { readFileSync } from 'node:fs';
import { createValidator, validateText } from '../fhir/validation/index.ts';
import { UsageError, USAGE_EXIT } from './command.ts';
import type { CommandSpec } from './command.ts';

export const validate: CommandSpec = {
  path: ['validate'],
  summary: 'valide une ressource ou un Bundle FHIR (JSON) contre FHIR R4, FR Core et nos profils',
  arguments: { usage: '<fichier.json>', min: 1, max: 1 },
  options: [{ name: 'json', type: 'boolean', description: "le résultat en OperationOutcome JSON, comme POST /v1/$validate le rend" }],
  environment: [],
  exits: [
    { code: 0, meaning: 'la ressource est valide' },
    { code: 1, meaning: 'elle ne l’est pas (chaque problème avec son chemin)' },
    { code: 2, meaning: `${USAGE_EXIT.meaning}, ou fichier illisible` },
  ],
  examples: ['telesante validate profiles/examples/valid/Bundle-teleconsultation-act.json'],
  run: async ({ values, positionals }) => {
    const file = positionals[0] ?? '';
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError('file-unreadable', `impossible de lire ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    const result = validateText(await createValidator(), text);
    if (values.json === true) {
      console.log(JSON.stringify(result.outcome, null, 2));
    } else {
      console.log(`${result.valid ? 'valide' : 'INVALIDE'} : ${file}`);
      for (const issue of result.issues) console.log(`  ${issue.severity} ${issue.expression || '(racine)'} : ${issue.message}`);
    }
    return result.valid ? 0 : 1;
  },
};
