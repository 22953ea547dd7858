import { Body, Controller, Get, Post, Put, Query, Req, UseGuards } from '@nestjs/common';
import type { Request } from 'express';
import { AppId, ApplicationAuthGuard, PageQuerySchema, parseInput } from '@chatfn/platform';
import { CreateFunctionSchema } from '../functions/functions.schema';
import { FunctionsService } from '../functions/functions.service';
import { http, RegistryLinks } from '../shared/registry-http';
import { DependenciesSchema, EnvironmentSchema, ScriptSchema } from './runtime.schema';
import { RuntimeService } from './runtime.service';

/** RuntimeApi of the SDK: the application's NodeJS chat runtime and its functions. */
@Controller('v1/runtimes/nodejs')
@UseGuards(ApplicationAuthGuard)
export class RuntimeController {
  constructor(
    private readonly runtime: RuntimeService,
    private readonly functions: FunctionsService,
    private readonly links: RegistryLinks,
  ) {}

  @Get()
  retrieve(@AppId() app: number) {
    return http(() => this.runtime.get(app));
  }

  @Put('dependencies')
  dependencies(@AppId() app: number, @Body() body: unknown) {
    const deps = parseInput(DependenciesSchema, body);
    return http(() => this.runtime.changeDependencies(app, deps));
  }

  @Put('environment-variables')
  environment(@AppId() app: number, @Body() body: unknown) {
    const env = parseInput(EnvironmentSchema, body);
    return http(() => this.runtime.changeEnvironment(app, env));
  }

  @Put('initialization-script')
  initializationScript(@AppId() app: number, @Body() body: unknown) {
    const input = parseInput(ScriptSchema, body);
    return http(() => this.runtime.changeInitializationScript(app, input.script));
  }

  @Get('functions')
  async listFunctions(@AppId() app: number, @Query() query: unknown, @Req() req: Request) {
    const paging = parseInput(PageQuerySchema, query, 'query');
    const { items, total } = await http(() => this.functions.list(app, paging));
    return this.links.page('functions', items, paging, total, req);
  }

  @Post('functions')
  createFunction(@AppId() app: number, @Body() body: unknown) {
    const input = parseInput(CreateFunctionSchema, body);
    return http(() => this.functions.define(app, input));
  }
}
