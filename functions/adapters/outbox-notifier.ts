/**
 * The local notifier: every message goes to an append-only JSON-lines file in the data
 * folder, readable only by its owner (messages carry temporary passwords to their user).
 * `rekey outbox` prints it.
 */
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock, Notification, Notifier } from '#core/ports.ts';

export interface OutboxEntry extends Notification {
  sentAt: string;
}

export class OutboxNotifier implements Notifier {
  constructor(
    private readonly path: string,
    private readonly clock: Clock = { now: () => new Date() },
  ) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  }

  async send(notification: Notification): Promise<void> {
    const entry: OutboxEntry = { ...notification, sentAt: this.clock.now().toISOString() };
    appendFileSync(this.path, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
    chmodSync(this.path, 0o600);
  }

  /** Every message sent so far, oldest first. */
  read(): OutboxEntry[] {
    if (!existsSync(this.path)) return [];
    return readFileSync(this.path, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as OutboxEntry);
  }
}
