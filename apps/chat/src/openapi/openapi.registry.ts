/**
 * The OpenAPI document's content contributed by feature modules. Routes are discovered from the running Nest app
 * (so the document always lists what is served); what a module adds here enriches them (summaries, operation ids,
 * tags, parameters, schemas). Usage, at module load or in `onModuleInit`:
 *
 *   OpenApiRegistry.add({ '/v1/functions/{id}': { get: { summary: 'Retrieve a chat function', operationId: 'retrieveFunction', tags: ['functions'] } } });
 *
 * Paths use OpenAPI templating (`{id}`), not Nest's `:id`.
 */
export interface OpenApiOperation {
  summary?: string;
  description?: string;
  operationId?: string;
  tags?: string[];
  [key: string]: unknown;
}
export type OpenApiPathItem = Partial<Record<'get' | 'put' | 'post' | 'delete' | 'patch' | 'head' | 'options', OpenApiOperation>>;
export type OpenApiPaths = Record<string, OpenApiPathItem>;

export class OpenApiRegistry {
  private static readonly paths: OpenApiPaths = {};
  private static readonly schemas: Record<string, unknown> = {};

  static add(paths: OpenApiPaths): void {
    for (const [path, item] of Object.entries(paths)) {
      const current = (this.paths[path] ??= {});
      for (const [method, op] of Object.entries(item) as [keyof OpenApiPathItem, OpenApiOperation][]) {
        current[method] = { ...current[method], ...op };
      }
    }
  }

  static addSchemas(schemas: Record<string, unknown>): void {
    Object.assign(this.schemas, schemas);
  }

  static contributedPaths(): OpenApiPaths {
    return this.paths;
  }

  static contributedSchemas(): Record<string, unknown> {
    return this.schemas;
  }
}
