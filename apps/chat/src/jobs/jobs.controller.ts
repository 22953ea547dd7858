import { Controller, Get, Param, Query, Req, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import { z } from 'zod';
import { AppId, ApplicationAuthGuard, PageQuerySchema, parseInput } from '@chatfn/platform';
import { ApiLinks } from '../shared/api-links';
import { pagedModel } from '../shared/hal';
import { idParam } from '../shared/params';
import { toJobResource } from './job.mapper';
import { JobsService } from './jobs.service';

const ListJobsQuerySchema = PageQuerySchema.extend({
  running: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
});

/** The SDK's JobsApi. */
@Controller('v1/jobs')
@UseGuards(ApplicationAuthGuard)
export class JobsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly links: ApiLinks,
  ) {}

  @Get()
  async list(@AppId() appId: number, @Query() query: unknown, @Req() req: Request) {
    const q = parseInput(ListJobsQuerySchema, query, 'query');
    const [rows, total] = await this.jobs.list(appId, q.page, q.size, q.running);
    return pagedModel('jobs', rows.map((j) => toJobResource(j, this.links.base)), q, total, this.links.requestHref(req));
  }

  @Get(':id')
  async retrieve(@AppId() appId: number, @Param('id') id: string) {
    return toJobResource(await this.jobs.get(appId, idParam(id)), this.links.base);
  }
}
