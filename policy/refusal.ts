/**
 * Training refused before it starts: a config whose fields contradict each other, or a
 * dataset that lacks what the config reads. The message names the field or the folder;
 * the CLI prints it as one line (exit 2) instead of an unexpected error's stack.
 */
export class TrainRefusal extends Error {
  override name = 'TrainRefusal';
}
