import { clock } from '#shared/runtime/clock.ts';
import { conflict, notFound } from '#shared/http/errors.ts';
import { type ApiEvent, type ApiResult, requireAccount } from '#shared/http/api-handler.ts';
import type { RequestOf } from '#shared/http/routes.ts';
import { CONFIGURATION_SET_PATTERN } from '#shared/events/ses-sources.ts';
import { listConfigurationSets, mapConfigurationSet, unmapConfigurationSet } from '#shared/store/ses-sources.ts';

/** SES configuration sets whose events are the account's (docs/ses.md). */

export async function postSesSource(event: ApiEvent, request: RequestOf<'POST /v1/sources/ses'>): Promise<ApiResult> {
  const { accountId } = requireAccount(event);
  const { configurationSet } = request.body();
  const mapped = await mapConfigurationSet(accountId, configurationSet, clock.now().toISOString());
  if (mapped.outcome === 'taken')
    throw conflict(
      'configuration_set_taken',
      `The configuration set ${configurationSet} belongs to another account; a configuration set belongs to one.`,
    );
  // Mapping a set the account already has changes nothing and says so.
  return { status: mapped.outcome === 'created' ? 201 : 200, body: mapped.source };
}

export async function getSesSources(event: ApiEvent, request: RequestOf<'GET /v1/sources/ses'>): Promise<ApiResult> {
  const { accountId } = requireAccount(event);
  const { limit, cursor } = request.page();
  const page = await listConfigurationSets(accountId, limit, cursor);
  return {
    status: 200,
    body: { configurationSets: page.items, ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) },
  };
}

export async function deleteSesSource(event: ApiEvent): Promise<ApiResult> {
  const { accountId } = requireAccount(event);
  const name = event.pathParameters!.configurationSet!;
  // Another account's set is not found, as any other account's resource.
  if (!CONFIGURATION_SET_PATTERN.test(name) || !(await unmapConfigurationSet(accountId, name)))
    throw notFound(`The configuration set ${name} is not mapped to this account.`);
  return { status: 204 };
}
