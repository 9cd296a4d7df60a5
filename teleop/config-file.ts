// Reads a teleop config from a JSON or YAML file (Node only); errors name the file and the field.
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, parseTeleopConfig, type TeleopConfig } from './config.ts';

export function loadTeleopConfig(file: string | undefined): TeleopConfig {
  if (!file) return parseTeleopConfig({});
  const name = path.basename(file);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(name, [], `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = /\.ya?ml$/i.test(file) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new ConfigError(name, [], `not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(err as Error).message.split('\n')[0]}`);
  }
  return parseTeleopConfig(raw, name);
}
