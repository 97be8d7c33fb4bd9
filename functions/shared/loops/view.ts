import type { EventType } from '#shared/events/event-types.ts';
import type { LoopRecord } from './loop.ts';
import type { LoopView } from './schemas.ts';
import { verificationLocations } from './verification.ts';

/** The loop as the API shows it; the secret only when it was just made. */
export function toLoopView(loop: LoopRecord, options: { withSecret?: boolean } = {}): LoopView {
  const { verification } = loop;
  return {
    id: loop.id,
    url: loop.url,
    events: loop.events.filter((type): type is EventType => type !== 'test'),
    format: loop.format,
    description: loop.description,
    enabled: loop.enabled,
    status: loop.status,
    ...(loop.disabledReason ? { disabledReason: loop.disabledReason } : {}),
    verification: {
      file: verification.file,
      content: verification.content,
      locations: verificationLocations(loop.url, verification.file),
      ...(verification.lastCheckedAt ? { lastCheckedAt: verification.lastCheckedAt } : {}),
      ...(verification.lastError ? { lastError: verification.lastError } : {}),
    },
    ...(options.withSecret ? { secret: loop.secrets[0]!.value } : {}),
    createdAt: loop.createdAt,
    updatedAt: loop.updatedAt,
  };
}
