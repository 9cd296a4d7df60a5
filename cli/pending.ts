// Commands of the CLI contract that are registered (so --help shows the whole
// surface) but not built yet. They say so and exit 2; none pretends to work.
import { CliError } from './errors.ts';

export function pending(command: string, issue: number): () => never {
  return () => {
    throw new CliError(`'${command}' is not built yet (issue #${issue}); see README for what works today`, 2);
  };
}
