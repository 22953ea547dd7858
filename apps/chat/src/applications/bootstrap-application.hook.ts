import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ChatfnConfig } from '@chatfn/config';
import { ApplicationsService } from './applications.service';

/** Creates (or keeps) the application of `CHATFN_BOOTSTRAP_CLIENT_ID`/`_SECRET` when the service starts. */
@Injectable()
export class BootstrapApplicationHook implements OnApplicationBootstrap {
  private readonly logger = new Logger('Applications');

  constructor(
    private readonly config: ChatfnConfig,
    private readonly apps: ApplicationsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { CHATFN_BOOTSTRAP_CLIENT_ID: id, CHATFN_BOOTSTRAP_CLIENT_SECRET: secret, CHATFN_BOOTSTRAP_APPLICATION_NAME: name } =
      this.config.env;
    if (!id && !secret) return;
    if (!id || !secret) {
      this.logger.warn('CHATFN_BOOTSTRAP_CLIENT_ID and CHATFN_BOOTSTRAP_CLIENT_SECRET must be set together; no application bootstrapped');
      return;
    }
    const app = await this.apps.ensure(id, secret, name);
    this.logger.log(`bootstrap application "${app.name}" (id ${app.id}, client id ${app.clientId}) ready`);
  }
}
