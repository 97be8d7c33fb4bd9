/**
 * Reading the synthesized CloudFormation template: the twin's only source for what exists and how
 * it is wired (routes, event sources, schedules, which function has which role).
 */
export interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
}

export interface Template {
  Resources: Record<string, Resource>;
  Outputs?: Record<string, { Value: unknown }>;
}

export function resourcesOfType(template: Template, type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

/** The logical id an intrinsic points at: `{Ref: X}`, `{"Fn::GetAtt": [X, attr]}`, or one inside a Join/Sub. */
export function referencedId(value: unknown): string | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const node = value as Record<string, unknown>;
  if (typeof node.Ref === 'string') return node.Ref;
  const getAtt = node['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  for (const child of Object.values(node)) {
    const items = Array.isArray(child) ? child : [child];
    for (const item of items) {
      const id = referencedId(item);
      if (id && !id.startsWith('AWS::')) return id;
    }
  }
  return undefined;
}

/** The environment variables of function `id` whose value names a resource of `type` (its Ref, an attribute, a URL). */
export function variablesNaming(template: Template, id: string, type: string): string[] {
  const environment = prop<{ Variables?: Record<string, unknown> }>(template.Resources[id]!, 'Environment');
  return Object.entries(environment?.Variables ?? {})
    .filter(([, value]) => template.Resources[referencedId(value) ?? '']?.Type === type)
    .map(([name]) => name);
}

export function prop<T = unknown>(resource: Resource, name: string): T | undefined {
  return resource.Properties?.[name] as T | undefined;
}
