import { Ajv } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

// Query strings and path parameters are text: "2" must be read as 2 and "false" as false. Bodies are
// JSON and are never coerced (an INS sent as a number is an error, not a string). Fastify shares one
// Ajv for every part of a request, so routes with typed query strings use this compiler instead.
const queryAjv = new Ajv({ coerceTypes: 'array', useDefaults: true, allErrors: true, removeAdditional: false, strict: false });

export const queryValidatorCompiler: FastifySchemaCompiler<object> = ({ schema }) => queryAjv.compile(schema);
