// `telesante ins check <INS>`: the checks of POST /v1/ins/check, at a terminal.
import { checkIns } from '../ins/index.ts';
import type { InsTraits } from '../ins/index.ts';
import { stringOption, USAGE_EXIT } from './command.ts';
import type { CommandSpec } from './command.ts';

export const insCheck: CommandSpec = {
  path: ['ins', 'check'],
  summary: "vérifie un INS (NIR ou NIA) : format, clé, OID, cohérence avec les traits d'identité",
  arguments: { usage: '<INS>', min: 1, max: 1 },
  options: [
    { name: 'oid', type: 'string', value: 'OID', description: "OID de l'INS (1.2.250.1.213.1.4.8 NIR, 1.2.250.1.213.1.4.9 NIA, …)" },
    { name: 'sex', type: 'string', choices: ['male', 'female', 'other', 'unknown'], description: 'sexe, comparé au 1er chiffre du NIR (other et unknown : non comparé)' },
    { name: 'birth-date', type: 'string', value: 'AAAA-MM-JJ', description: 'date de naissance (AAAA, AAAA-MM ou AAAA-MM-JJ), comparée aux chiffres 2 à 5' },
    { name: 'birthplace', type: 'string', value: 'COG', description: 'lieu de naissance : code INSEE de la commune, ou 99 + code du pays' },
    { name: 'allow-test', type: 'boolean', description: "accepte les INS d'identités de test et de démonstration" },
    { name: 'json', type: 'boolean', description: 'le résultat en JSON, comme POST /v1/ins/check le rend' },
  ],
  environment: [],
  exits: [
    { code: 0, meaning: "l'INS est valide" },
    { code: 1, meaning: "l'INS est invalide (les erreurs sont listées, chacune avec son code)" },
    USAGE_EXIT,
  ],
  examples: ['telesante ins check 285069912304593 --sex female --birth-date 1985-06-01'],
  run: async ({ values, positionals }) => {
    const traits: InsTraits = {
      sex: stringOption(values, 'sex') as InsTraits['sex'],
      birthDate: stringOption(values, 'birth-date'),
      birthplaceCode: stringOption(values, 'birthplace'),
    };
    const result = checkIns({ ins: positionals[0] ?? '', oid: stringOption(values, 'oid'), traits }, { allowTestIdentities: values['allow-test'] === true });
    if (values.json === true) {
      console.log(JSON.stringify(result, null, 2));
    } else {
      console.log(`${result.valid ? 'valide' : 'INVALIDE'} : ${result.ins} (${result.kind ?? 'type inconnu'}${result.test ? ', identité de test' : ''})`);
      for (const issue of result.issues) console.log(`  ${issue.severity === 'error' ? 'erreur ' : 'alerte '} [${issue.field}] ${issue.message} [${issue.code}]`);
    }
    return result.valid ? 0 : 1;
  },
};
