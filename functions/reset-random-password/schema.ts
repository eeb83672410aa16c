/**
 * Request and response schemas of `GET /v2/{project_id}/users/{user_id}/random-password`
 * (Huawei IAM, seed 002).
 */
import * as z from 'zod/mini';
import type { NotificationChannel } from '#core/ports.ts';
import { resourceId } from '#http/wire.ts';

/** `email`, `phone`, or both comma-separated in either order; no spaces, no repeats. */
export const notificationType = z.string().check(
  z.regex(/^(email|phone)(,(email|phone))?$/, 'must be "email", "phone" or "email,phone"'),
  z.refine((value) => new Set(value.split(',')).size === value.split(',').length, 'names a channel twice'),
);

export const randomPasswordRequest = z.strictObject({
  project_id: resourceId,
  user_id: resourceId,
  /** The seed defines no body; an empty JSON object is tolerated, anything else is refused. */
  body: z.optional(z.strictObject({})),
});

/** The query string: `notification_type` and nothing else (parsed on its own, so errors name it plainly). */
export const randomPasswordQuery = z.strictObject({ notification_type: z.optional(notificationType) });

export type RandomPasswordRequest = z.infer<typeof randomPasswordRequest>;

/** The channels a valid `notification_type` names, in its order; none when it is absent. */
export function channelsOf(value: string | undefined): NotificationChannel[] {
  return value === undefined ? [] : (value.split(',') as NotificationChannel[]);
}
