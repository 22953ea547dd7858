import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { parseInput } from '@chatfn/platform';
import { AdminGuard } from './admin.guard';
import { toAdminApplication } from './application.mapper';
import { CreateApplicationSchema } from './application.schema';
import { ApplicationsService } from './applications.service';

/** Installation administration: create and list applications (`Authorization: Bearer <CHATFN_ADMIN_TOKEN>`). */
@Controller('admin/applications')
@UseGuards(AdminGuard)
export class AdminApplicationsController {
  constructor(private readonly apps: ApplicationsService) {}

  @Post()
  @HttpCode(201)
  create(@Body() body: unknown) {
    return this.apps.create(parseInput(CreateApplicationSchema, body).name);
  }

  @Get()
  async list() {
    return { applications: (await this.apps.list()).map(toAdminApplication) };
  }
}
