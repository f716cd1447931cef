/**
 * Input rules shared by the operations: names, query parameters (zaqar-api-v2.md §1.8)
 * and typed body fields (§1.7). Each function either returns the parsed value or throws
 * the BrokerError the reference answers with; none of them touches storage.
 */
import { BrokerError, invalidBody } from './errors.js';
import type { ParsedJson, JsonValue } from './json-body.js';
import type { QueryParams } from './operation.js';

const queueNamePattern = /^[a-zA-Z0-9_.-]{1,64}$/;
export const projectIdLengthMax = 256;

export function isValidQueueName(name: string): boolean {
  return queueNamePattern.test(name);
}

export function checkQueueName(name: string | undefined, project: string): string {
  if (name === undefined || !isValidQueueName(name) || project.length > projectIdLengthMax) {
    throw new BrokerError('invalid_queue_name', 'The format of the submitted queue name or project id is not valid.');
  }
  return name;
}

const trueWords = new Set(['true', 'True', 't', 'yes', 'y', '1', 'on']);
const falseWords = new Set(['false', 'False', 'f', 'no', 'n', '0', 'off']);

/** Last non-blank value of a parameter; blank values count as absent. */
export function queryString(query: QueryParams, name: string): string | undefined {
  const values = query.get(name);
  if (values === undefined) return undefined;
  for (let i = values.length - 1; i >= 0; i--) {
    const value = values[i];
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

function invalidParameter(name: string, reason: string): BrokerError {
  return new BrokerError('invalid_parameter', `The "${name}" parameter is invalid. ${reason}`);
}

export function queryBool(query: QueryParams, name: string, fallback: boolean): boolean {
  const value = queryString(query, name);
  if (value === undefined) return fallback;
  if (trueWords.has(value)) return true;
  if (falseWords.has(value)) return false;
  throw invalidParameter(name, 'The value of the parameter must be "true" or "false".');
}

export function queryInt(query: QueryParams, name: string): number | undefined {
  const value = queryString(query, name);
  if (value === undefined) return undefined;
  if (!/^\s*[-+]?[0-9]+\s*$/.test(value)) throw invalidParameter(name, 'The value must be an integer.');
  const parsed = Number(value.trim());
  // Beyond the safe range the value is out of every bound anyway; keep it huge.
  return Number.isSafeInteger(parsed) ? parsed : Math.sign(parsed) * Number.MAX_SAFE_INTEGER;
}

/** Comma-separated list parameter; repeated parameters are concatenated. Blank items dropped. */
export function queryList(query: QueryParams, name: string): string[] | undefined {
  const values = query.get(name);
  if (values === undefined) return undefined;
  const items = values.flatMap((v) => v.split(',')).filter((v) => v !== '');
  return items.length === 0 ? undefined : items;
}

/** A JSON body value counts as an int when written as an integer literal or a boolean. */
export function isIntValue(parsed: ParsedJson, container: object, key: string | number, value: JsonValue | undefined): boolean {
  if (typeof value === 'boolean') return true;
  return typeof value === 'number' && Number.isInteger(value) && !parsed.isFloat(container, key);
}

/** Reads an optional int field of a body object (booleans become 0/1, as in Python). */
export function optionalIntField(parsed: ParsedJson, object: Record<string, JsonValue>, field: string): number | undefined {
  if (!Object.hasOwn(object, field)) return undefined;
  const value = object[field];
  if (!isIntValue(parsed, object, field, value)) {
    throw invalidBody(`The value of the "${field}" field must be a int.`);
  }
  return Number(value);
}

export function isPlainObject(value: JsonValue | undefined): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Declared Content-Length, or undefined when absent or unparsable. */
export function contentLength(headers: Readonly<Record<string, string>>): number | undefined {
  const raw = headers['content-length'];
  if (raw === undefined || !/^[0-9]+$/.test(raw.trim())) return undefined;
  return Number(raw.trim());
}
