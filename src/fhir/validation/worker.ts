// One thread of the validation pool (pool.ts): loads the validator once, then parses and validates the
// documents it is sent, one at a time, off the service's event loop.
import { parentPort } from 'node:worker_threads';
import { validateText } from './outcome.ts';
import { createValidator } from './validator.ts';

export interface ValidationRequest {
  readonly id: number;
  readonly text: string;
}

export interface ValidationAnswer {
  readonly id: number;
  readonly valid: boolean;
  /** The OperationOutcome as JSON text: written here, off the event loop (a large Bundle's has thousands of issues). */
  readonly outcomeJson: string;
}

const port = parentPort;
if (port === null) throw new Error('validation worker: to be started by the validation pool');
const validator = await createValidator();
port.on('message', ({ id, text }: ValidationRequest) => {
  const { valid, outcome } = validateText(validator, text);
  port.postMessage({ id, valid, outcomeJson: JSON.stringify(outcome) } satisfies ValidationAnswer);
});
port.postMessage('ready');
