// The telesante command line. Each command is a declaration (command.ts): this file only finds the one
// the words name, and answers `--help`, `help <command>` and `--version`. Help goes to standard output
// with exit 0; a command line that cannot run goes to standard error with exit 2, its message in
// French and its stable code in brackets.
import { readFileSync } from 'node:fs';
import { actsGenerate, actsImport } from './acts.ts';
import { asksHelp, helpOf, NODE_FLAGS_VARIABLE, parseCommand, report, UsageError } from './command.ts';
import type { CommandSpec } from './command.ts';
import { indicatorsRebuild } from './indicators.ts';
import { insCheck } from './ins.ts';
import { offersGenerate, offersImport } from './offers.ts';
import { seed } from './seed.ts';
import { validate } from './validate.ts';

const COMMANDS: readonly CommandSpec[] = [insCheck, validate, offersImport, offersGenerate, actsImport, actsGenerate, indicatorsRebuild, seed];

const GROUPS: Readonly<Record<string, string>> = {
  ins: 'identifiants nationaux de santé (INS)',
  offers: 'offres de télésanté (ROR)',
  acts: 'actes de télémédecine',
  indicators: 'indicateurs de la feuille de route',
};

function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}

function usageLine(command: CommandSpec): string {
  return `${command.path.join(' ')}${command.arguments === undefined ? '' : ` ${command.arguments.usage}`}`;
}

function generalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => usageLine(c).length)) + 2;
  return `telesante ${version()} — offres de télésanté et actes de télémédecine en FHIR (ROR, FR Core)

Usage : telesante <commande> [options]

Commandes :
${COMMANDS.map((c) => `  ${usageLine(c).padEnd(width)}${c.summary}`).join('\n')}

  ${'help <commande>'.padEnd(width)}l'aide d'une commande (de même : telesante <commande> --help)
  ${'--version'.padEnd(width)}la version

Variables d'environnement :
  ${NODE_FLAGS_VARIABLE.name}  ${NODE_FLAGS_VARIABLE.meaning}
  (chaque commande dit les siennes dans son aide)

Codes de sortie : 0 réussi, 1 refusé (INS invalide, lignes rejetées…), 2 ligne de commande incorrecte ou
erreur fatale, 130 arrêté par Ctrl-C ; chaque commande dit les siens. Chaque message porte son code
entre crochets, stable, pour les scripts.

Exemple :
  telesante ins check 285069912304593 --sex female --birth-date 1985-06-01
`;
}

function groupHelp(group: string): string {
  const commands = COMMANDS.filter((c) => c.path[0] === group);
  const width = Math.max(...commands.map((c) => usageLine(c).length)) + 2;
  return `telesante ${group} — ${GROUPS[group] ?? ''}

Commandes :
${commands.map((c) => `  ${usageLine(c).padEnd(width)}${c.summary}`).join('\n')}

L'aide de chacune : telesante ${commands[0]?.path.join(' ') ?? group} --help
`;
}

/** The command the words name, and the arguments after them; a group name alone gives its group. */
function find(words: readonly string[]): { command?: CommandSpec; group?: string; rest: readonly string[] } {
  for (const command of COMMANDS) {
    if (command.path.every((word, i) => words[i] === word)) return { command, rest: words.slice(command.path.length) };
  }
  const group = words[0];
  if (group !== undefined && Object.hasOwn(GROUPS, group)) return { group, rest: words.slice(1) };
  return { rest: words };
}

async function main(argv: readonly string[]): Promise<number> {
  const [first] = argv;
  if (first === '--version' || first === '-V') {
    console.log(`telesante ${version()}`);
    return 0;
  }
  if (first === undefined) {
    report('usage-no-command', 'aucune commande : telesante --help les liste');
    return 2;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    const { command, group, rest } = find(argv.slice(1));
    if (command !== undefined && rest.length === 0) console.log(helpOf(command));
    else if (group !== undefined && rest.length === 0) console.log(groupHelp(group));
    else if (argv.length === 1) console.log(generalHelp());
    else {
      report('usage-unknown-command', `pas de commande « ${argv.slice(1).join(' ')} » : telesante --help les liste`);
      return 2;
    }
    return 0;
  }
  const { command, group, rest } = find(argv);
  if (command === undefined) {
    if (group !== undefined && (rest.length === 0 || asksHelp(rest))) {
      if (rest.length === 0) {
        report('usage-no-subcommand', `telesante ${group} attend une sous-commande :`);
        console.error(groupHelp(group));
        return 2;
      }
      console.log(groupHelp(group));
      return 0;
    }
    report('usage-unknown-command', `pas de commande « ${argv.join(' ')} » : telesante --help les liste`);
    return 2;
  }
  if (asksHelp(rest)) {
    console.log(helpOf(command));
    return 0;
  }
  try {
    return await command.run(parseCommand(command, rest));
  } catch (error) {
    if (error instanceof UsageError) report(error.code, `${command.path.join(' ')} : ${error.message}`);
    else report('fatal', `${command.path.join(' ')} : erreur inattendue : ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
}

process.exitCode = await main(process.argv.slice(2));
