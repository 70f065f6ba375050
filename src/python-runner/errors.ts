/**
 * A `<TARGET_FILE(...)>`-style expression that cannot be expanded: malformed,
 * or naming a target the .ninja files do not describe. The messages are
 * python_runner.py's, so that logs read the same after switching.
 */
export class ExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpressionError';
  }
}
