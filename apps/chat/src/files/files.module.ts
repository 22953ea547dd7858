import { Module } from '@nestjs/common';
import { FileStorage } from './file-storage.service';
import { FilesController } from './files.controller';

/** Upload storage (`FileStorage`, exported for message files too) and the download route. */
@Module({ controllers: [FilesController], providers: [FileStorage], exports: [FileStorage] })
export class FilesModule {}
