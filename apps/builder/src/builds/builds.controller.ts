import { Controller, Get, Query, Req, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import { ChatfnConfig } from '@chatfn/config';
import { AppId, ApplicationAuthGuard, PageQuerySchema, parseInput } from '@chatfn/platform';
import { RuntimeBuild } from '@chatfn/runtime-artifacts';
import { RuntimeBuildService } from './runtime-build.service';

/** The build history of the application's runtime, newest first, with logs (chatfn extension of RuntimeApi). */
@Controller('v1/runtimes/nodejs/builds')
@UseGuards(ApplicationAuthGuard)
export class BuildsController {
  constructor(
    private readonly builds: RuntimeBuildService,
    private readonly config: ChatfnConfig,
  ) {}

  @Get()
  async list(@AppId() app: number, @Query() query: unknown, @Req() req: Request) {
    const { page, size } = parseInput(PageQuerySchema, query, 'query');
    const { items, total } = await this.builds.repo.list(app, page, size);
    const self = new URL(req.originalUrl, this.config.publicUrl).toString();
    const totalPages = Math.ceil(total / size);
    const at = (n: number) => {
      const u = new URL(self);
      u.searchParams.set('page', String(n));
      u.searchParams.set('size', String(size));
      return { href: u.toString() };
    };
    const links: Record<string, { href: string }> = { self: { href: self }, first: at(0) };
    if (page > 0) links.prev = at(page - 1);
    if (page + 1 < totalPages) links.next = at(page + 1);
    if (totalPages > 0) links.last = at(totalPages - 1);
    return {
      _embedded: { builds: items.map(renderBuild) },
      page: { size, total_elements: total, total_pages: totalPages, number: page },
      _links: links,
    };
  }
}

export function renderBuild(b: RuntimeBuild) {
  return {
    id: b.id,
    status: b.status.toUpperCase(),
    driver: b.driver,
    reason: b.reason,
    runtimeRevision: b.runtimeRevision,
    environmentRevision: b.environmentRevision,
    contentHash: b.contentHash,
    dependenciesHash: b.dependenciesHash,
    dependencies: b.dependencies,
    image: b.image ?? undefined,
    directory: b.directory ?? undefined,
    reused: b.reused,
    live: b.live,
    error: b.error ?? undefined,
    logs: b.logs,
    lockfile: b.lockfile ?? undefined,
    createdTime: b.requestedAt.toISOString(),
    startedTime: b.startedAt?.toISOString(),
    finishedTime: b.finishedAt?.toISOString(),
  };
}
