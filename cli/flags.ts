// Flags arrive as strings from commander; each command validates them with a
// zod schema so a bad value exits 2 with one line that names the flag.
import { z } from 'zod';
import { CliError } from './errors.ts';

export function parseFlags<T extends z.ZodType>(schema: T, raw: unknown): z.infer<T> {
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const flag = issue.path.length ? `--${String(issue.path[0]).replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}: ` : '';
    throw new CliError(issue.message.startsWith('--') ? issue.message : `${flag}${issue.message}`, 2);
  }
  return r.data;
}

/** A whole-number flag given as a string, within [min, max]. */
export const intString = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .pipe(z.number().int().min(min, `${name} must be ≥ ${min}`).max(max, `${name} must be ≤ ${max}`));

/** A decimal flag given as a string, within [min, max]. */
export const numString = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^-?\d+(\.\d+)?(e-?\d+)?$/i, `${name} must be a number`)
    .transform(Number)
    .pipe(z.number().min(min, `${name} must be ≥ ${min}`).max(max, `${name} must be ≤ ${max}`));

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

/** `--scene-camera` renders or subscribes to a camera, so it cannot go with `--no-camera`. */
export const sceneNeedsCamera: [(f: { camera: boolean; sceneCamera: boolean }) => boolean, { message: string; path: string[] }] = [
  (f) => f.camera || !f.sceneCamera,
  { message: '--scene-camera needs the cameras: drop --no-camera', path: ['sceneCamera'] },
];
