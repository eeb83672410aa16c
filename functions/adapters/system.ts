/** The real clock and id source. Tests pass their own. */
import { randomUUID } from 'node:crypto';
import type { Clock, IdSource } from '#core/ports.ts';

export const systemClock: Clock = { now: () => new Date() };

export const randomIds: IdSource = { next: () => randomUUID() };
