// The task registry: name → factory.
import type { TaskFactory, TaskName } from '../task.ts';
import { pickPlace } from './pick-place.ts';
import { gentleGrasp } from './gentle-grasp.ts';
import { findSmell } from './find-smell.ts';
import { openDoor } from './open-door.ts';

export const TASKS: Record<TaskName, TaskFactory> = {
  'pick-place': pickPlace,
  'open-door': openDoor,
  'find-smell': findSmell,
  'gentle-grasp': gentleGrasp,
};
