// What a command of `telesante` is: its words, a one-line summary, its arguments and options, the
// environment it reads, its exit codes and an example. One declaration serves the parsing (node:util
// parseArgs, strict), the checks that are the same everywhere (choices, number of arguments) and the
// help, so that the help says exactly what is accepted. Every message a person reads is French, with a
// stable code in brackets for scripts, as the API's OperationOutcomes carry theirs in `diagnostics`.
import { parseArgs } from 'node:util';

export interface OptionSpec {
  /** Long name, without `--`. */
  readonly name: string;
  readonly short?: string;
  readonly type: 'string' | 'boolean';
  /** What the value is, in the help (`N`, `FICHIER`); the choices when there are some. */
  readonly value?: string;
  /** The only values accepted; the help lists them. */
  readonly choices?: readonly string[];
  readonly description: string;
}

export interface CommandSpec {
  /** The words that name it: `['offers', 'import']`. */
  readonly path: readonly string[];
  /** One line: what it does. */
  readonly summary: string;
  /** The arguments as the usage line shows them (`<fichier|->`), and how many are taken. */
  readonly arguments?: { readonly usage: string; readonly min: number; readonly max: number };
  readonly options: readonly OptionSpec[];
  /** More to say than one line: what happens, what is written where. */
  readonly details?: string;
  readonly environment: readonly { readonly name: string; readonly meaning: string }[];
  readonly exits: readonly { readonly code: number; readonly meaning: string }[];
  readonly examples: readonly string[];
  readonly run: (input: CommandInput) => Promise<number>;
}

export interface CommandInput {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

/** A command line that cannot be run as typed: exit 2, the message, and where to find the help. */
export class UsageError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'UsageError';
    this.code = code;
  }
}

/** Read by every command: bin/telesante hands them to Node. */
export const NODE_FLAGS_VARIABLE = {
  name: 'TELESANTE_NODE_FLAGS',
  meaning: 'options de Node données par bin/telesante (défaut : --max-semi-space-size=8 --max-old-space-size=256 ; vide : celles de V8)',
};

export const USAGE_EXIT = { code: 2, meaning: "ligne de commande incorrecte (le message dit quoi, avec son code entre crochets)" };

/** `telesante: message [code]` on standard error. */
export function report(code: string, message: string): void {
  console.error(`telesante : ${message} [${code}]`);
}

/** `telesante: attention : message [code]` on standard error. */
export function warn(code: string, message: string): void {
  console.error(`telesante : attention : ${message} [${code}]`);
}

function optionUsage(option: OptionSpec): string {
  const names = `${option.short === undefined ? '' : `-${option.short}, `}--${option.name}`;
  if (option.type === 'boolean') return names;
  return `${names} ${option.choices?.join('|') ?? option.value ?? 'VALEUR'}`;
}

function table(rows: readonly (readonly [string, string])[], indent = '  '): string {
  const width = Math.min(34, Math.max(...rows.map(([left]) => left.length)) + 2);
  return rows.map(([left, right]) => (left.length + 2 > width ? `${indent}${left}\n${indent}${' '.repeat(width)}${right}` : `${indent}${left.padEnd(width)}${right}`)).join('\n');
}

const HELP_OPTION: OptionSpec = { name: 'help', short: 'h', type: 'boolean', description: 'affiche cette aide' };

/** The help of one command, as `--help` and `telesante help …` print it. */
export function helpOf(command: CommandSpec): string {
  const name = `telesante ${command.path.join(' ')}`;
  const sections = [`${name} — ${command.summary}`, `Usage : ${name}${command.arguments === undefined ? '' : ` ${command.arguments.usage}`}${command.options.length > 0 ? ' [options]' : ''}`];
  if (command.details !== undefined) sections.push(command.details);
  sections.push(`Options :\n${table([...command.options, HELP_OPTION].map((option) => [optionUsage(option), option.description]))}`);
  sections.push(`Variables d'environnement :\n${table([...command.environment, NODE_FLAGS_VARIABLE].map((variable) => [variable.name, variable.meaning]))}`);
  sections.push(`Codes de sortie :\n${table(command.exits.map((exit) => [String(exit.code), exit.meaning]))}`);
  sections.push(`Exemple${command.examples.length > 1 ? 's' : ''} :\n${command.examples.map((example) => `  ${example}`).join('\n')}`);
  return `${sections.join('\n\n')}\n`;
}

/** `--help` or `-h` before a `--`. */
export function asksHelp(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}

function frenchList(values: readonly string[]): string {
  return values.length <= 1 ? (values[0] ?? '') : `${values.slice(0, -1).join(', ')} ou ${values[values.length - 1] ?? ''}`;
}

/** node:util's parse errors, in French; their code says which. */
function parseFailure(error: unknown, command: CommandSpec): UsageError {
  const code = (error as { code?: string }).code;
  const message = (error as Error).message;
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? '';
  const option = quoted.replace(/ <value>$/, '');
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return new UsageError('usage-unknown-option', `option inconnue : ${option} (telesante ${command.path.join(' ')} --help donne les options)`);
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && /argument missing/.test(message)) return new UsageError('usage-missing-value', `l'option ${option} attend une valeur`);
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return new UsageError('usage-unexpected-value', `l'option ${option} ne prend pas de valeur`);
  return new UsageError('usage-invalid', message);
}

/** The options and arguments of a command line, checked against the command's declaration. */
export function parseCommand(command: CommandSpec, args: readonly string[]): CommandInput {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const option of command.options) options[option.name] = { type: option.type, ...(option.short === undefined ? {} : { short: option.short }) };
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw parseFailure(error, command);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  for (const option of command.options) {
    const value = values[option.name];
    if (option.choices !== undefined && typeof value === 'string' && !option.choices.includes(value)) {
      throw new UsageError('usage-invalid-value', `--${option.name} vaut ${frenchList(option.choices)} (reçu : ${value})`);
    }
  }
  const { min, max, usage } = command.arguments ?? { min: 0, max: 0, usage: '' };
  const count = parsed.positionals.length;
  if (count < min) throw new UsageError('usage-missing-argument', `il manque ${usage}`);
  if (count > max) {
    throw new UsageError('usage-extra-argument', max === 0 ? `aucun argument n'est attendu (reçu : ${parsed.positionals.join(' ')})` : `seulement ${usage} est attendu (reçu en trop : ${parsed.positionals.slice(max).join(' ')})`);
  }
  return { values, positionals: parsed.positionals };
}

/** An integer option within bounds, or its default; a usage error naming the option otherwise. */
export function integerOption(values: CommandInput['values'], name: string, bounds: { min: number; max: number; fallback?: number }): number | undefined {
  const value = values[name];
  if (value === undefined || typeof value === 'boolean') return bounds.fallback;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= bounds.min && n <= bounds.max)) {
    throw new UsageError('usage-invalid-value', `--${name} est un entier de ${bounds.min.toLocaleString('fr-FR')} à ${bounds.max.toLocaleString('fr-FR')} (reçu : ${value})`);
  }
  return n;
}

/** A string option as given, or undefined. */
export function stringOption(values: CommandInput['values'], name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}
