/**
 * Builds the message of a declaration error. Every message names the subject (the construct),
 * the field, the bad value and the fix, e.g.
 * `service 'Payment': name must be a lowercase RFC 1123 label, e.g. 'payment' (got 'Payment')`.
 */
export function declarationError(subject: string, field: string, value: unknown, problem: string, fix: string): Error {
  return new Error(`${subject}: ${field} ${problem} (got ${show(value)}). Fix: ${fix}`);
}

/** Renders a value for an error message. */
export function show(value: unknown): string {
  if (typeof value === 'string') {
    return `'${value}'`;
  }
  if (value === undefined) {
    return 'undefined';
  }
  return JSON.stringify(value);
}
