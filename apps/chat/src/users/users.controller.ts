import { UploadedFileData } from '../files/uploaded-file';
import {
  Body,
  Controller,
  Delete,
  Get,
  Head,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Req,
  UploadedFile,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import type { Request } from 'express';
import { ApiException, AppId, ApplicationAuthGuard, parseInput } from '@chatfn/platform';
import { toApplicationResource } from '../applications/application.mapper';
import { ApplicationsService } from '../applications/applications.service';
import { FileStorage } from '../files/file-storage.service';
import { ApiLinks } from '../shared/api-links';
import { EventDepth } from '../shared/event-depth.decorator';
import { pagedModel } from '../shared/hal';
import { idParam, secretName } from '../shared/params';
import { UserCommandsService } from './user-commands.service';
import { UserQueriesService } from './user-queries.service';
import { toChatUserResource } from './user.mapper';
import {
  CreateUserSchema,
  ExternalFileSchema,
  ListUsersQuerySchema,
  READ_ONLY_USER_FIELDS,
  SecretSchema,
  UpdateUserSchema,
} from './user.schema';
import { UsersService } from './users.service';

/** The SDK's UsersApi (user channels/messages/notifications/unread count: notifications/user-inbox.controller.ts). */
@Controller('v1/users')
@UseGuards(ApplicationAuthGuard)
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly queries: UserQueriesService,
    private readonly commands: UserCommandsService,
    private readonly apps: ApplicationsService,
    private readonly files: FileStorage,
    private readonly links: ApiLinks,
  ) {}

  /** checkUserExists: 200 when a user has this name, 404 otherwise. Declared before GET so HEAD is not GET's. */
  @Head()
  async exists(@AppId() appId: number, @Query('name') name: unknown): Promise<void> {
    if (typeof name !== 'string' || name === '') {
      throw ApiException.badRequest('name: is required', { errors: [{ field: 'name', message: 'is required' }] });
    }
    await this.users.getByName(appId, name);
  }

  @Post()
  @HttpCode(201)
  async create(@AppId() appId: number, @Body() body: unknown, @EventDepth() depth: number) {
    const user = await this.commands.create(appId, parseInput(CreateUserSchema, body), depth);
    return toChatUserResource(user, this.links.base);
  }

  @Get()
  async list(@AppId() appId: number, @Query() query: unknown, @Req() req: Request) {
    const q = parseInput(ListUsersQuerySchema, query, 'query');
    const { items, total } = await this.queries.list(appId, { ...q, unread: q.unread === 'true' });
    return pagedModel(
      'users',
      items.map((u) => toChatUserResource(u, this.links.base)),
      q,
      total,
      this.links.requestHref(req),
    );
  }

  @Get(':id')
  async retrieve(@AppId() appId: number, @Param('id') id: string) {
    return toChatUserResource(await this.users.findInApp(appId, idParam(id)), this.links.base);
  }

  /** JSON merge patch (`application/json+merge-patch`, `application/merge-patch+json` or JSON). */
  @Patch(':id')
  async update(@AppId() appId: number, @Param('id') id: string, @Body() body: unknown, @EventDepth() depth: number) {
    const userId = idParam(id);
    const patch = body && typeof body === 'object' && !Array.isArray(body) ? { ...(body as Record<string, unknown>) } : body;
    if (patch && typeof patch === 'object') for (const k of READ_ONLY_USER_FIELDS) delete (patch as Record<string, unknown>)[k];
    const user = await this.commands.update(appId, userId, parseInput(UpdateUserSchema, patch ?? {}), depth);
    return toChatUserResource(user, this.links.base);
  }

  @Delete(':id')
  async remove(@AppId() appId: number, @Param('id') id: string, @EventDepth() depth: number) {
    await this.commands.delete(appId, idParam(id), depth);
    return toApplicationResource(await this.apps.get(appId), this.links.base);
  }

  /** `CreateExternalFileProperties` as JSON, or a multipart upload in the `file` field. */
  @Post(':id/display-picture')
  @UseInterceptors(FileInterceptor('file', { limits: { fileSize: 10 * 1024 * 1024, files: 1 } }))
  async displayPicture(
    @AppId() appId: number,
    @Param('id') id: string,
    @Body() body: unknown,
    @UploadedFile() file: UploadedFileData | undefined,
    @EventDepth() depth: number,
  ) {
    const userId = idParam(id);
    await this.users.findInApp(appId, userId);
    let url: string;
    if (file) {
      if (!/^image\//.test(file.mimetype)) {
        throw ApiException.badRequest(`file: must be an image, got ${file.mimetype}`, {
          errors: [{ field: 'file', message: 'must be an image' }],
        });
      }
      url = (await this.files.save(appId, file)).url;
    } else {
      url = parseInput(ExternalFileSchema, body).url;
    }
    return toChatUserResource(await this.commands.setDisplayPicture(appId, userId, url, depth), this.links.base);
  }

  @Get(':id/secrets/:name')
  async getSecret(@AppId() appId: number, @Param('id') id: string, @Param('name') name: string) {
    return { secret: await this.commands.getSecret(appId, idParam(id), secretName(name)) };
  }

  @Put(':id/secrets/:name')
  async setSecret(@AppId() appId: number, @Param('id') id: string, @Param('name') name: string, @Body() body: unknown) {
    const { secret } = parseInput(SecretSchema, body);
    if (secret === undefined) throw ApiException.badRequest('secret: is required', { errors: [{ field: 'secret', message: 'is required' }] });
    return toChatUserResource(await this.commands.setSecret(appId, idParam(id), secretName(name), secret), this.links.base);
  }

  @Delete(':id/secrets/:name')
  async removeSecret(@AppId() appId: number, @Param('id') id: string, @Param('name') name: string) {
    return toChatUserResource(await this.commands.removeSecret(appId, idParam(id), secretName(name)), this.links.base);
  }
}
