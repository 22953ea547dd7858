import { Controller, Get, Injectable, OnApplicationBootstrap, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { ChatfnConfig } from '@chatfn/config';
import { OpenApiOperation, OpenApiPathItem, OpenApiPaths, OpenApiRegistry } from './openapi.registry';
import './chat.openapi';

const METHODS: Partial<Record<RequestMethod, keyof OpenApiPathItem>> = {
  [RequestMethod.GET]: 'get',
  [RequestMethod.POST]: 'post',
  [RequestMethod.PUT]: 'put',
  [RequestMethod.DELETE]: 'delete',
  [RequestMethod.PATCH]: 'patch',
  [RequestMethod.HEAD]: 'head',
  [RequestMethod.OPTIONS]: 'options',
};

/** `/v1/users/:id` → `/v1/users/{id}`. */
export function toOpenApiPath(...parts: string[]): string {
  const joined = '/' + parts.map((p) => p.replace(/^\/+|\/+$/g, '')).filter(Boolean).join('/');
  return joined.replace(/:(\w+)/g, '{$1}');
}

/** Builds the document from the app's controllers (discovered once, at start-up) and the registry. */
@Injectable()
export class OpenApiDocument implements OnApplicationBootstrap {
  private discovered: OpenApiPaths = {};

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly config: ChatfnConfig,
  ) {}

  onApplicationBootstrap(): void {
    const paths: OpenApiPaths = {};
    for (const wrapper of this.discovery.getControllers()) {
      const type = wrapper.metatype as (new (...a: unknown[]) => unknown) | undefined;
      if (!type?.prototype) continue;
      const prefixes = ([] as string[]).concat(Reflect.getMetadata(PATH_METADATA, type) ?? '');
      for (const name of this.scanner.getAllMethodNames(type.prototype)) {
        const handler = (type.prototype as Record<string, unknown>)[name] as object;
        const routePaths = Reflect.getMetadata(PATH_METADATA, handler);
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (routePaths === undefined || method === undefined) continue;
        const verb = METHODS[method];
        if (!verb) continue;
        for (const prefix of prefixes) {
          for (const p of ([] as string[]).concat(routePaths)) {
            const path = toOpenApiPath(prefix, p);
            (paths[path] ??= {})[verb] = { summary: `${type.name.replace(/Controller$/, '')}.${name}` };
          }
        }
      }
    }
    this.discovered = paths;
  }

  build(): Record<string, unknown> {
    const contributed = OpenApiRegistry.contributedPaths();
    const paths: OpenApiPaths = {};
    for (const [path, item] of Object.entries(this.discovered)) {
      paths[path] = {};
      for (const [verb, op] of Object.entries(item) as [keyof OpenApiPathItem, OpenApiOperation][]) {
        paths[path][verb] = { ...op, ...contributed[path]?.[verb], responses: { default: { description: 'See the chatkitty SDK' } } };
      }
    }
    return {
      openapi: '3.0.3',
      info: {
        title: 'chatfn Platform API',
        version: '1.0.0',
        description: 'ChatKitty-compatible Platform API (chatkitty SDK 2.106.8) and Chat Functions registry served by chatfn.',
      },
      servers: [{ url: this.config.publicUrl }],
      components: {
        securitySchemes: {
          application_authorization: {
            type: 'oauth2',
            flows: { clientCredentials: { tokenUrl: `${this.config.publicUrl}/oauth/token`, scopes: {} } },
          },
        },
        schemas: OpenApiRegistry.contributedSchemas(),
      },
      security: [{ application_authorization: [] }],
      paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    };
  }
}

/** `GET /v1/openapi.json`: public, describes every route this process serves. */
@Controller('v1')
export class OpenApiController {
  constructor(private readonly doc: OpenApiDocument) {}

  @Get('openapi.json')
  get(): Record<string, unknown> {
    return this.doc.build();
  }
}
