import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query, Req, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import { AppId, ApplicationAuthGuard, PageQuerySchema, parseInput } from '@chatfn/platform';
import { InvocationsService } from '../invocations/invocations.service';
import { http, pathId, RegistryLinks } from '../shared/registry-http';
import { CreateVersionSchema, InvocationQuerySchema, RollbackSchema, SettingsSchema, TestRunSchema } from './functions.schema';
import { FunctionsService } from './functions.service';

/** FunctionsApi of the SDK plus chatfn's extensions (enable, disable, rollback, settings, test, redrive). */
@Controller('v1/functions')
@UseGuards(ApplicationAuthGuard)
export class FunctionsController {
  constructor(
    private readonly functions: FunctionsService,
    private readonly invocations: InvocationsService,
    private readonly links: RegistryLinks,
  ) {}

  @Get(':id')
  retrieve(@AppId() app: number, @Param('id') id: string) {
    return http(() => this.functions.get(app, pathId(id, 'Chat function')));
  }

  @Post(':id/versions')
  createVersion(@AppId() app: number, @Param('id') id: string, @Body() body: unknown) {
    const fid = pathId(id, 'Chat function');
    const input = parseInput(CreateVersionSchema, body);
    return http(() => this.functions.deployVersion(app, fid, input.handler_script));
  }

  @Get(':id/versions')
  async listVersions(@AppId() app: number, @Param('id') id: string, @Query() query: unknown, @Req() req: Request) {
    const paging = parseInput(PageQuerySchema, query, 'query');
    const { items, total } = await http(() => this.functions.listVersions(app, pathId(id, 'Chat function'), paging));
    return this.links.page('versions', items, paging, total, req);
  }

  @Get(':id/current-version')
  currentVersion(@AppId() app: number, @Param('id') id: string) {
    return http(() => this.functions.currentVersion(app, pathId(id, 'Chat function')));
  }

  @Get(':id/invocations')
  async listInvocations(@AppId() app: number, @Param('id') id: string, @Query() query: unknown, @Req() req: Request) {
    const fid = pathId(id, 'Chat function');
    const paging = parseInput(PageQuerySchema, query, 'query');
    const filter = parseInput(InvocationQuerySchema, query, 'query');
    await http(() => this.functions.findRow(app, fid));
    const { items, total } = await this.invocations.list(app, fid, { status: filter.status, versionNumber: filter.version_number }, paging);
    return this.links.page('invocations', items, paging, total, req);
  }

  @Post(':id/invocations/:invocationId/redrive')
  @HttpCode(202)
  redrive(@AppId() app: number, @Param('id') id: string, @Param('invocationId') invocationId: string) {
    return http(() => this.invocations.redrive(app, pathId(id, 'Chat function'), invocationId));
  }

  @Post(':id/enable')
  @HttpCode(200)
  enable(@AppId() app: number, @Param('id') id: string) {
    return http(() => this.functions.setEnabled(app, pathId(id, 'Chat function'), true));
  }

  @Post(':id/disable')
  @HttpCode(200)
  disable(@AppId() app: number, @Param('id') id: string) {
    return http(() => this.functions.setEnabled(app, pathId(id, 'Chat function'), false));
  }

  @Post(':id/rollback')
  rollback(@AppId() app: number, @Param('id') id: string, @Body() body: unknown) {
    const fid = pathId(id, 'Chat function');
    const input = parseInput(RollbackSchema, body);
    return http(() => this.functions.rollback(app, fid, input.version_number));
  }

  @Patch(':id/settings')
  settings(@AppId() app: number, @Param('id') id: string, @Body() body: unknown) {
    const fid = pathId(id, 'Chat function');
    const input = parseInput(SettingsSchema, body);
    return http(() => this.functions.changeSettings(app, fid, { timeoutMs: input.timeout_ms, failurePolicy: input.failure_policy }));
  }

  @Post(':id/test')
  @HttpCode(200)
  test(@AppId() app: number, @Param('id') id: string, @Body() body: unknown) {
    const fid = pathId(id, 'Chat function');
    const input = parseInput(TestRunSchema, body);
    return http(() => this.functions.test(app, fid, input));
  }
}

/** FunctionVersionsApi of the SDK. */
@Controller('v1/function-versions')
@UseGuards(ApplicationAuthGuard)
export class FunctionVersionsController {
  constructor(private readonly functions: FunctionsService) {}

  @Get(':id')
  retrieve(@AppId() app: number, @Param('id') id: string) {
    return http(() => this.functions.getVersion(app, pathId(id, 'Chat function version')));
  }
}
