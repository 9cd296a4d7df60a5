/** An expected failure: printed as one line `senseact: <message>`, exit with `code`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
  }
}
