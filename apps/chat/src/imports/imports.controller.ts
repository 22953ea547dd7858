import { UploadedFileData } from '../files/uploaded-file';
import { Controller, HttpCode, Param, Post, UploadedFile, UseGuards, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiException, AppId, ApplicationAuthGuard } from '@chatfn/platform';
import { ChannelsService } from '../channels/channels.service';
import { JobType } from '../jobs/job.entity';
import { toJobResource } from '../jobs/job.mapper';
import { JobsService } from '../jobs/jobs.service';
import { ApiLinks } from '../shared/api-links';
import { idParam } from '../shared/params';
import { IMPORT_MAX_FILE_BYTES, parseImportFile } from './import-file';

const upload = () => FileInterceptor('file', { limits: { fileSize: IMPORT_MAX_FILE_BYTES, files: 1 } });

/**
 * The SDK's ImportsApi: each upload (a JSON array in the multipart field `file`) becomes a background job, answered
 * at once with the PENDING `ApplicationJobResource`; follow it with the JobsApi. A file that is not a JSON array
 * of objects is a 400 naming the problem; what is wrong inside an item is reported per item in the job's error.
 */
@Controller('v1/imports')
@UseGuards(ApplicationAuthGuard)
export class ImportsController {
  constructor(
    private readonly jobs: JobsService,
    private readonly links: ApiLinks,
    private readonly channelsService: ChannelsService,
  ) {}

  @Post('users')
  @HttpCode(202)
  @UseInterceptors(upload())
  users(@AppId() appId: number, @UploadedFile() file: UploadedFileData | undefined) {
    return this.start(appId, 'USER_IMPORT', file);
  }

  @Post('channels')
  @HttpCode(202)
  @UseInterceptors(upload())
  channels(@AppId() appId: number, @UploadedFile() file: UploadedFileData | undefined) {
    return this.start(appId, 'CHANNEL_IMPORT', file);
  }

  @Post('channels/:id/members')
  @HttpCode(202)
  @UseInterceptors(upload())
  async members(@AppId() appId: number, @Param('id') id: string, @UploadedFile() file: UploadedFileData | undefined) {
    const channel = await this.channelsService.get(appId, idParam(id));
    if (channel.type === 'DIRECT') {
      throw ApiException.badRequest('The members of a DIRECT channel are fixed: import a direct channel instead');
    }
    return this.start(appId, 'CHANNEL_MEMBERS_IMPORT', file, { channelId: channel.id });
  }

  @Post('messages')
  @HttpCode(202)
  @UseInterceptors(upload())
  messages(@AppId() appId: number, @UploadedFile() file: UploadedFileData | undefined) {
    return this.start(appId, 'MESSAGE_IMPORT', file);
  }

  private async start(appId: number, type: JobType, file: UploadedFileData | undefined, params?: Record<string, unknown>) {
    const items = parseImportFile(file);
    const job = await this.jobs.create(appId, type, items, { file: file?.originalname, params });
    return toJobResource(job, this.links.base);
  }
}
