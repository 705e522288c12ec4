// A UserError is the one kind of failure a user is shown as-is: one line naming the file, the place and
// the fix. Everything else is a bug and is reported as such (still one line, with a pointer to the log).

export class UserError extends Error {
  constructor(
    message: string,
    /** Where the problem is, for diagnostics and the CLI prefix. */
    readonly file?: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
    this.name = 'UserError';
  }

  /** `file:line:col: message` — the form editors and terminals turn into links. */
  format(): string {
    if (!this.file) return this.message;
    const place = this.line !== undefined ? `:${this.line}${this.column !== undefined ? `:${this.column}` : ''}` : '';
    return `${this.file}${place}: ${this.message}`;
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
