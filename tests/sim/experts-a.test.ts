// Scripted experts succeed on ≥ 95 % of 20 seeds; random actions on < 10 % of 20 seeds.
// Two files so vitest runs the four tasks on both cores.
import { expertSuite } from './helpers.ts';

expertSuite(['pick-place', 'open-door']);
